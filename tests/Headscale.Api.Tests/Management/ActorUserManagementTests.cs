using Xunit;
using Headscale.Api.Management;
using Headscale.Management.V1;

namespace Headscale.Api.Tests.Management;

/// <summary>CreateUser against the real actor layer: the optional fields are kept and checked.</summary>
public sealed class ActorUserManagementTests(ActorBackendHost host) : IClassFixture<ActorBackendHost>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CreateUser_keeps_the_picture_url_and_refuses_one_that_is_not_an_http_url()
    {
        var created = await host.Users.CreateUserAsync(
            new CreateUserRequest { Name = "pictured", DisplayName = "Pictured", Email = "p@example.com", PictureUrl = "https://example.com/p.png" }, Ct);
        var refused = await host.Users.CreateUserAsync(new CreateUserRequest { Name = "badpicture", PictureUrl = "javascript:alert(1)" }, Ct);

        Assert.Equal("https://example.com/p.png", created.Value.User.ProfilePicUrl);
        Assert.Equal((ManagementErrorCode.InvalidArgument, "picture_url must be an absolute http or https URL"), (refused.Error!.Code, refused.Error.Message));
        var listed = await host.Users.ListUsersAsync(new ListUsersRequest(), Ct);
        Assert.Equal("https://example.com/p.png", listed.Value.Users.Single(u => u.Name == "pictured").ProfilePicUrl);
        Assert.DoesNotContain(listed.Value.Users, u => u.Name == "badpicture");
    }
}
