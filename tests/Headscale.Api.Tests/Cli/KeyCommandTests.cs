using System.Text.Json;
using Headscale.Management.V1;
using Xunit;

namespace Headscale.Api.Tests.Cli;

/// <summary><c>apikeys</c> (over the real store-backed facade) and <c>preauthkeys</c> (over the fakes).</summary>
[Collection(CliCollection.Name)]
public sealed class KeyCommandTests(CliHarness cli)
{
    [Fact]
    public async Task Api_key_create_prints_the_key_once_then_list_expire_and_delete_use_its_prefix()
    {
        var created = await cli.RunAsync("apikeys", "create", "-e", "30d");
        var key = created.Stdout.Trim();
        var prefix = key.Split('.')[0];

        var listed = await cli.RunAsync("apikey", "ls");
        var row = Assert.Single(listed.Lines, l => l.Contains(prefix, StringComparison.Ordinal));
        var cells = row.Split('|').Select(c => c.Trim()).ToArray();

        var expired = await cli.RunAsync("api", "revoke", "-p", prefix);
        var afterExpire = await cli.RunAsync("apikeys", "list", "-o", "json");
        var deleted = await cli.RunAsync("apikeys", "remove", "--prefix", prefix);
        var afterDelete = await cli.RunAsync("apikeys", "list");

        Assert.Equal(0, created.ExitCode);
        Assert.Matches(@"^[A-Za-z0-9_-]{7}\.[A-Za-z0-9_-]{32}$", key);
        Assert.Equal(["ID", "Prefix", "Expiration", "Created"], listed.Lines[0].Split('|').Select(c => c.Trim()));
        Assert.Equal([prefix, "2026-02-09 12:00:00", "2026-01-10 12:00:00"], cells[1..]);
        Assert.DoesNotContain(key, listed.Stdout);
        Assert.Equal("Key expired\n", expired.Stdout);
        using (var doc = JsonDocument.Parse(afterExpire.Stdout))
        {
            var mine = doc.RootElement.EnumerateArray().Single(k => k.GetProperty("prefix").GetString() == prefix);
            Assert.Equal("2026-01-10T12:00:00Z", mine.GetProperty("expiration").GetString());
        }

        Assert.Equal("Key deleted\n", deleted.Stdout);
        Assert.DoesNotContain(prefix, afterDelete.Stdout);
    }

    [Fact]
    public async Task Api_key_create_as_json_carries_the_key_and_defaults_to_90_days()
    {
        var run = await cli.RunAsync("apikeys", "c", "-o", "json");
        var key = JsonDocument.Parse(run.Stdout).RootElement.GetString()!;
        var listed = await cli.RunAsync("apikeys", "list", "-o", "json");

        using var doc = JsonDocument.Parse(listed.Stdout);
        var mine = doc.RootElement.EnumerateArray().Single(k => key.StartsWith(k.GetProperty("prefix").GetString()!, StringComparison.Ordinal));
        Assert.Equal("2026-04-10T12:00:00Z", mine.GetProperty("expiration").GetString());
    }

    [Fact]
    public async Task Expiring_an_unknown_prefix_is_the_servers_error_on_one_line()
    {
        var run = await cli.RunAsync("apikeys", "expire", "-p", "zzzzzzz");

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("Error: ", run.Stderr);
        Assert.Single(run.Stderr.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task Pre_auth_key_list_is_a_table_for_the_given_user()
    {
        var run = await cli.RunAsync("preauthkeys", "list", "-u", "1");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(1UL, Assert.IsType<ListPreAuthKeysRequest>(cli.Facades.LastRequest).User);
        Assert.Equal(["ID", "Key", "Reusable", "Ephemeral", "Used", "Expiration", "Created", "Tags"], run.Lines[0].Split('|').Select(c => c.Trim()));
        Assert.Equal(
            ["5", "0123456789abcdef0123456789abcdef0123456789abcdef", "false", "true", "false", "2026-02-01 00:00:00", "2026-01-02 03:04:05", "tag:web"],
            run.Lines[1].Split('|').Select(c => c.Trim()));
    }

    [Fact]
    public async Task Pre_auth_key_create_sends_flags_and_an_expiration_from_now()
    {
        var run = await cli.RunAsync("authkey", "new", "--user", "1", "--reusable", "--ephemeral", "-e", "2h", "--tags", "tag:a,tag:b");
        var request = Assert.IsType<CreatePreAuthKeyRequest>(cli.Facades.LastRequest);
        var defaulted = await cli.RunAsync("pre", "create", "-u", "1");
        var defaultRequest = Assert.IsType<CreatePreAuthKeyRequest>(cli.Facades.LastRequest);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("0123456789abcdef0123456789abcdef0123456789abcdef\n", run.Stdout);
        Assert.Equal((1UL, true, true), (request.User, request.Reusable, request.Ephemeral));
        Assert.Equal(CliHarness.Now.AddHours(2), request.Expiration.ToDateTimeOffset());
        Assert.Equal(["tag:a", "tag:b"], request.AclTags);
        Assert.Equal(CliHarness.Now.AddHours(1), defaultRequest.Expiration.ToDateTimeOffset());
        Assert.False(defaultRequest.Reusable);
        Assert.Empty(defaultRequest.AclTags);
    }

    [Fact]
    public async Task Pre_auth_key_expire_sends_user_and_key()
    {
        var run = await cli.RunAsync("preauthkeys", "-u", "1", "expire", "0123456789abcdef0123456789abcdef0123456789abcdef");
        var request = Assert.IsType<ExpirePreAuthKeyRequest>(cli.Facades.LastRequest);

        Assert.Equal("Key expired\n", run.Stdout);
        Assert.Equal((1UL, "0123456789abcdef0123456789abcdef0123456789abcdef"), (request.User, request.Key));
    }

    [Theory]
    [InlineData(new[] { "preauthkeys", "list" }, "Option '--user' is required")]
    [InlineData(new[] { "preauthkeys", "list", "-u", "0" }, "--user: '0' is not a positive integer id")]
    [InlineData(new[] { "preauthkeys", "create", "-u", "1", "-e", "soon" }, "--expiration: 'soon' is not a positive duration")]
    [InlineData(new[] { "preauthkeys", "create", "-u", "1", "-e", "-1h" }, "--expiration: '-1h' is not a positive duration")]
    [InlineData(new[] { "preauthkeys", "create", "-u", "1", "--tags", "web" }, "--tags: 'web' is not a tag")]
    [InlineData(new[] { "preauthkeys", "expire", "-u", "1" }, "KEY: missing argument (the pre-authentication key to expire)")]
    [InlineData(new[] { "apikeys", "create", "-e", "90x" }, "--expiration: '90x' is not a positive duration")]
    [InlineData(new[] { "apikeys", "expire" }, "Option '--prefix' is required")]
    [InlineData(new[] { "apikeys", "delete", "-p", " " }, "--prefix: must not be empty")]
    public async Task Bad_arguments_are_refused_before_calling_the_server(string[] args, string message)
    {
        var before = cli.Facades.LastRequest;

        var run = await cli.RunAsync(args);

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("Error: ", run.Stderr);
        Assert.Contains(message, run.Stderr);
        Assert.Same(before, cli.Facades.LastRequest);
    }
}
