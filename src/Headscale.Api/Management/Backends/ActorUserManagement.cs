using Google.Protobuf.WellKnownTypes;
using Headscale.Actors.Users;
using Headscale.Management.V1;
using DomainUser = Headscale.Actors.Users.Messages.User;

namespace Headscale.Api.Management.Backends;

/// <summary>Users over the user directory singleton.</summary>
public sealed class ActorUserManagement(IUserService users, TimeProvider time, ManagementCaller caller) : IUserManagement
{
    public async Task<ManagementResult<CreateUserResponse>> CreateUserAsync(CreateUserRequest request, CancellationToken cancellationToken)
    {
        var result = await users.CreateAsync(request.Name, request.DisplayName, request.Email, request.PictureUrl, time.GetUtcNow(), caller.Current, cancellationToken);
        return result.User is { } user && result.Result.Succeeded
            ? new CreateUserResponse { User = ToProto(user) }
            : ResultMapping.ToError(result.Result);
    }

    public async Task<ManagementResult<RenameUserResponse>> RenameUserAsync(RenameUserRequest request, CancellationToken cancellationToken)
    {
        var result = await users.RenameAsync(new UserId(request.OldId), request.NewName, time.GetUtcNow(), caller.Current, cancellationToken);
        return result.User is { } user && result.Result.Succeeded
            ? new RenameUserResponse { User = ToProto(user) }
            : ResultMapping.ToError(result.Result);
    }

    public async Task<ManagementResult<DeleteUserResponse>> DeleteUserAsync(DeleteUserRequest request, CancellationToken cancellationToken)
    {
        var result = await users.DeleteAsync(new UserId(request.Id), time.GetUtcNow(), caller.Current, cancellationToken);
        return result.Result.Succeeded ? new DeleteUserResponse() : ResultMapping.ToError(result.Result);
    }

    public async Task<ManagementResult<ListUsersResponse>> ListUsersAsync(ListUsersRequest request, CancellationToken cancellationToken)
    {
        var all = await users.ListAsync(cancellationToken);
        var response = new ListUsersResponse();
        response.Users.AddRange(all
            .Where(u => request.Id == 0 || u.Id.Value == request.Id)
            .Where(u => request.Name.Length == 0 || u.Name == request.Name)
            .Where(u => request.Email.Length == 0 || u.Email == request.Email)
            .OrderBy(u => u.Id.Value)
            .Select(ToProto));
        return response;
    }

    public static User ToProto(DomainUser user) => new()
    {
        Id = user.Id.Value,
        Name = user.Name,
        DisplayName = user.DisplayName,
        Email = user.Email,
        CreatedAt = Timestamp.FromDateTimeOffset(user.CreatedAt),
        ProfilePicUrl = user.ProfilePicUrl ?? "",
    };
}
