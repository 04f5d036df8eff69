using Headscale.Actors;

namespace Headscale.Api.Management.Backends;

/// <summary>The one place where a domain <see cref="CommandResult"/> becomes a management error.</summary>
internal static class ResultMapping
{
    public static ManagementError ToError(CommandResult result) => result.Code switch
    {
        ResultCode.NotFound => ManagementError.NotFound(result.Message),
        ResultCode.Conflict => ManagementError.AlreadyExists(result.Message),
        ResultCode.BadRequest => ManagementError.InvalidArgument(result.Message),
        ResultCode.Expired or ResultCode.Unauthorized => ManagementError.FailedPrecondition(result.Message),
        _ => ManagementError.Unknown(result.Message),
    };
}
