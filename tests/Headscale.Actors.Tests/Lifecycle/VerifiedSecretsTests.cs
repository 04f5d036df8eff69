using Headscale.Actors.Registration;

namespace Headscale.Actors.Tests.Lifecycle;

public sealed class VerifiedSecretsTests
{
    private const string Secret = "0123456789abcdef0123456789abcdef";

    [Fact]
    public void A_matching_secret_is_accepted_again_and_a_wrong_one_is_refused_even_after_a_match()
    {
        var hash = BCrypt.Net.BCrypt.HashPassword(Secret, 4);
        var secrets = new VerifiedSecrets();

        Assert.False(secrets.Verify("not-the-secret", hash));
        Assert.True(secrets.Verify(Secret, hash));
        Assert.True(secrets.Verify(Secret, hash));
        Assert.False(secrets.Verify(Secret[..^1] + "0", hash));
        Assert.False(secrets.Verify(Secret, BCrypt.Net.BCrypt.HashPassword("another secret of a different key", 4)));
    }
}
