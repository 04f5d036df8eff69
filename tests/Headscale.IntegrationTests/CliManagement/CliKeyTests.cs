namespace Headscale.IntegrationTests.CliManagement;

/// <summary>
/// <c>headscale preauthkeys</c> and <c>headscale apikeys</c> through the real executable, and the
/// CLI over the remote address with an API key instead of the unix socket.
/// </summary>
public sealed class CliKeyTests(CliServer server) : IClassFixture<CliServer>
{
    [Fact]
    public async Task Pre_auth_keys_create_list_and_expire_in_human_output()
    {
        var (user, _) = await server.CreateUserAsync("keys");

        var reusable = (await server.RunAsync("preauthkeys", "create", "-u", user, "--reusable", "-e", "2h")).Ok().Trim();
        var ephemeral = (await server.RunAsync("preauthkey", "new", "-u", user, "--ephemeral")).Ok().Trim();
        var tagged = (await server.RunAsync("authkey", "c", "-u", user, "--tags", "tag:web,tag:db")).Ok().Trim();
        Assert.All(new[] { reusable, ephemeral, tagged }, key => Assert.StartsWith("hskey-auth-", key));

        var (headers, rows) = (await server.RunAsync("preauthkeys", "list", "-u", user)).Table();
        Assert.Equal(["ID", "Key", "Reusable", "Ephemeral", "Used", "Expiration", "Created", "Tags"], headers);
        Assert.Equal(3, rows.Length);
        var byKey = rows.ToDictionary(r => r[1]);
        var reusableRow = byKey[Listed(reusable)];
        Assert.Equal(["true", "false", "false"], reusableRow[2..5]);
        Assert.Equal(["false", "true", "false"], byKey[Listed(ephemeral)][2..5]);
        Assert.Equal("tag:web, tag:db", byKey[Listed(tagged)][7]);
        Assert.DoesNotContain(reusable, rows.SelectMany(r => r));

        Assert.Equal("Key expired\n", (await server.RunAsync("preauthkeys", "expire", "-u", user, reusable)).Ok());
        var expiry = DateTime.Parse((await server.RunAsync("pre", "ls", "-u", user)).Table().Rows.Single(r => r[0] == reusableRow[0])[5], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(expiry < DateTime.Parse(reusableRow[5], System.Globalization.CultureInfo.InvariantCulture), "expiring moves the expiration to now, before the 2h it had");
    }

    [Fact]
    public async Task Pre_auth_keys_in_json_output()
    {
        var (user, name) = await server.CreateUserAsync("jsonkeys");

        var created = await server.JsonAsync("preauthkeys", "create", "-u", user, "--reusable", "--ephemeral", "--tags", "tag:ci", "-e", "30m");
        var key = created.GetProperty("key").GetString()!;
        Assert.StartsWith("hskey-auth-", key);
        Assert.True(created.GetProperty("reusable").GetBoolean());
        Assert.True(created.GetProperty("ephemeral").GetBoolean());
        Assert.False(created.GetProperty("used").GetBoolean());
        Assert.Equal(["tag:ci"], created.GetProperty("aclTags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(name, created.GetProperty("user").GetProperty("name").GetString());
        var lifetime = DateTimeOffset.Parse(created.GetProperty("expiration").GetString()!, System.Globalization.CultureInfo.InvariantCulture)
            - DateTimeOffset.Parse(created.GetProperty("createdAt").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(lifetime, TimeSpan.FromMinutes(25), TimeSpan.FromMinutes(31));

        var listed = Assert.Single((await server.JsonAsync("preauthkeys", "list", "-u", user)).EnumerateArray());
        Assert.Equal(created.GetProperty("id").GetString(), listed.GetProperty("id").GetString());
        Assert.Equal(Listed(key), listed.GetProperty("key").GetString());
        var viaNamespace = await server.JsonAsync("preauthkeys", "list", "--namespace", user);
        Assert.Equal(listed.GetProperty("id").GetString(), Assert.Single(viaNamespace.EnumerateArray()).GetProperty("id").GetString());

        var expired = await server.JsonAsync("preauthkeys", "expire", "-u", user, key);
        Assert.Equal(System.Text.Json.JsonValueKind.Object, expired.ValueKind);
    }

    [Fact]
    public async Task Pre_auth_key_bad_input_is_one_line_naming_the_problem()
    {
        var (user, _) = await server.CreateUserAsync("badkeys");

        (await server.RunAsync("preauthkeys", "list")).Error("--user");
        (await server.RunAsync("preauthkeys", "create", "-u", "abc")).Error("--user: 'abc' is not a positive integer id");
        (await server.RunAsync("preauthkeys", "create", "-u", "999999")).Error("999999");
        (await server.RunAsync("preauthkeys", "list", "-u", "999999")).Error("999999");
        (await server.RunAsync("preauthkeys", "create", "-u", user, "--tags", "Tag:Web")).Error("--tags: 'Tag:Web'");
        (await server.RunAsync("preauthkeys", "create", "-u", user, "-e", "soon")).Error("--expiration: 'soon' is not a positive duration");
        (await server.RunAsync("preauthkeys", "expire", "-u", user)).Error("KEY: missing argument");
        (await server.RunAsync("preauthkeys", "create", "-u", "999999", "-o", "json")).JsonError("999999");
    }

    [Fact]
    public async Task Api_keys_create_list_expire_and_delete_in_human_output()
    {
        var key = (await server.RunAsync("apikeys", "create", "-e", "1d")).Ok().Trim();
        var prefix = key.Split('.')[0];

        var (headers, rows) = (await server.RunAsync("apikeys", "list")).Table();
        Assert.Equal(["ID", "Prefix", "Expiration", "Created"], headers);
        var row = Assert.Single(rows, r => r[1] == prefix);

        Assert.Equal("Key expired\n", (await server.RunAsync("apikey", "revoke", "-p", prefix)).Ok());
        var after = Assert.Single((await server.RunAsync("api", "ls")).Table().Rows, r => r[1] == prefix);
        Assert.True(string.CompareOrdinal(after[2], row[2]) < 0, "expiring moves the expiration to now");

        Assert.Equal("Key deleted\n", (await server.RunAsync("apikeys", "delete", "-p", prefix)).Ok());
        Assert.DoesNotContain((await server.RunAsync("apikeys", "list")).Table().Rows, r => r[1] == prefix);
    }

    [Fact]
    public async Task Api_keys_in_json_output_and_bad_input()
    {
        var key = (await server.JsonAsync("apikeys", "create")).GetString()!;
        var prefix = key.Split('.')[0];

        var listed = Assert.Single((await server.JsonAsync("apikeys", "list")).EnumerateArray(), k => k.GetProperty("prefix").GetString() == prefix);
        Assert.Matches(@"^\d+$", listed.GetProperty("id").GetString());
        var days = (DateTimeOffset.Parse(listed.GetProperty("expiration").GetString()!, System.Globalization.CultureInfo.InvariantCulture) - DateTimeOffset.UtcNow).TotalDays;
        Assert.InRange(days, 89, 90.1);
        Assert.DoesNotContain(key, (await server.RunAsync("apikeys", "list", "-o", "json")).Stdout);

        Assert.Equal(System.Text.Json.JsonValueKind.Object, (await server.JsonAsync("apikeys", "expire", "-p", prefix)).ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Object, (await server.JsonAsync("apikeys", "delete", "--prefix", prefix)).ValueKind);

        (await server.RunAsync("apikeys", "expire")).Error("--prefix");
        (await server.RunAsync("apikeys", "delete", "-p", "bad!")).Error("bad!");
        (await server.RunAsync("apikeys", "expire", "-p", "Zzzzzzz")).Error("");
        (await server.RunAsync("apikeys", "create", "-e", "0s")).Error("--expiration: '0s' is not a positive duration");
    }

    [Fact]
    public async Task The_remote_address_works_with_a_valid_api_key_and_refuses_a_wrong_or_expired_one()
    {
        var (_, name) = await server.CreateUserAsync("remote");
        var key = (await server.RunAsync("apikeys", "create")).Ok().Trim();

        Assert.Single((await server.RunRemoteAsync(key, "users", "list", "-n", name)).Table().Rows);
        var json = (await server.RunRemoteAsync(key, "users", "list", "-n", name, "-o", "json")).Json();
        Assert.Equal(name, Assert.Single(json.EnumerateArray()).GetProperty("name").GetString());

        var wrong = key[..^4] + (key.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA");
        (await server.RunRemoteAsync(wrong, "users", "list")).Error("API key");
        (await server.RunRemoteAsync(wrong, "users", "list", "-o", "json")).JsonError("API key");

        (await server.RunAsync("apikeys", "expire", "-p", key.Split('.')[0])).Ok();
        (await server.RunRemoteAsync(key, "users", "list")).Error("API key");
    }

    /// <summary>How <c>preauthkeys list</c> shows a key: its public part only.</summary>
    private static string Listed(string key) => key[..("hskey-auth-".Length + 12)] + "-***";
}
