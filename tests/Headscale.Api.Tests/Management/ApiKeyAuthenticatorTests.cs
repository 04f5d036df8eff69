using Headscale.Api.Management.ApiKeys;
using Xunit;

namespace Headscale.Api.Tests.Management;

public sealed class ApiKeyAuthenticatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 10, 12, 0, 0, TimeSpan.Zero);
    private readonly InMemoryApiKeyStore _store = new();
    private readonly ManualTimeProvider _clock = new(Now);
    private readonly ApiKeyAuthenticator _authenticator;
    private readonly GeneratedApiKey _key = ApiKeyCodec.Generate(ApiKeyForm.Legacy);

    public ApiKeyAuthenticatorTests()
    {
        _authenticator = new ApiKeyAuthenticator(_store, _clock);
        _store.Put(_key.Prefix, InMemoryApiKeyStore.CheapHash(_key.Secret), Now.AddHours(1), Now);
    }

    private ValueTask<ApiKeyCheck> Check(string? header) => _authenticator.CheckAsync(header, TestContext.Current.CancellationToken);

    [Fact]
    public async Task Each_refusal_has_its_reason_for_the_log()
    {
        Assert.Equal(ApiKeyCheck.Valid, await Check("Bearer " + _key.FullKey));
        Assert.Equal(ApiKeyCheck.Valid, await Check("bearer " + _key.FullKey));
        Assert.Equal(ApiKeyCheck.Missing, await Check(null));
        Assert.Equal(ApiKeyCheck.Missing, await Check(""));
        Assert.Equal(ApiKeyCheck.Malformed, await Check(_key.FullKey));
        Assert.Equal(ApiKeyCheck.Malformed, await Check("Bearer " + _key.FullKey + "x"));
        Assert.Equal(ApiKeyCheck.UnknownPrefix, await Check("Bearer " + ApiKeyCodec.Generate(ApiKeyForm.Hskey).FullKey));
        Assert.Equal(ApiKeyCheck.WrongSecret, await Check("Bearer " + _key.Prefix + "." + new string('x', 32)));

        _clock.Now = Now.AddHours(1);
        Assert.Equal(ApiKeyCheck.Expired, await Check("Bearer " + _key.FullKey));
    }

    [Fact]
    public async Task Remembered_success_does_not_survive_a_new_hash_for_the_prefix()
    {
        Assert.Equal(ApiKeyCheck.Valid, await Check("Bearer " + _key.FullKey));

        _store.Put(_key.Prefix, InMemoryApiKeyStore.CheapHash(new string('z', 32)), Now.AddHours(1), Now);

        Assert.Equal(ApiKeyCheck.WrongSecret, await Check("Bearer " + _key.FullKey));
    }
}
