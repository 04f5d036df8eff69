using System.Text.Json;
using Headscale.Api.Tests.Management;
using Xunit;

namespace Headscale.Api.Tests.Cli;

/// <summary>The CLI over <c>cli.address</c> with <c>cli.api_key</c> instead of the unix socket.</summary>
[Collection(CliCollection.Name)]
public sealed class RemoteAddressTests(CliHarness cli)
{
    private const string Prefix = "rEmOtE1";
    private const string Secret = "abcdefghijklmnopqrstuvwxyz012345";

    [Fact]
    public async Task A_valid_key_is_accepted_and_a_wrong_one_is_named_in_one_line()
    {
        cli.Server.Keys.Put(Prefix, InMemoryApiKeyStore.CheapHash(Secret), CliHarness.Now.AddDays(1), CliHarness.Now);
        var good = cli.WriteConfig("remote-good.yaml", Remote(Prefix + "." + Secret));
        var wrong = cli.WriteConfig("remote-wrong.yaml", Remote(Prefix + "." + Secret.Replace('a', 'b')));

        var accepted = await cli.RunAsync("users", "list", "-c", good);
        var refused = await cli.RunAsync("users", "list", "-c", wrong);
        var refusedJson = await cli.RunAsync("users", "list", "-c", wrong, "-o", "json");

        Assert.Equal(0, accepted.ExitCode);
        Assert.Matches(@"^ID +\| Name +\| Username +\| Email +\| Created\n", accepted.Stdout);
        Assert.Equal(1, refused.ExitCode);
        var expected = $"headscale at {cli.Server.GrpcBase.ToString().TrimEnd('/')} refused the API key (cli.api_key / HEADSCALE_CLI_API_KEY): it is wrong, expired or deleted (Unauthorized)";
        Assert.Equal($"Error: {expected}\n", refused.Stderr.Replace("\r\n", "\n", StringComparison.Ordinal));
        Assert.Equal(1, refusedJson.ExitCode);
        Assert.Equal(expected, JsonDocument.Parse(refusedJson.Stdout).RootElement.GetProperty("error").GetString());
    }

    private string Remote(string apiKey) =>
        $"unix_socket: {cli.Server.SocketPath}\ncli:\n  address: {cli.Server.GrpcBase.ToString().TrimEnd('/')}\n  api_key: {apiKey}\n";
}
