using System.CommandLine;
using Google.Protobuf.WellKnownTypes;
using Headscale.Management.V1;

namespace Headscale.Api.Cli.Management;

/// <summary><c>headscale apikeys</c> (aliases <c>apikey</c>, <c>api</c>): list, create, expire, delete.</summary>
public static class ApiKeyCommands
{
    public static Command Create(TimeProvider clock)
    {
        var group = new Command("apikeys", "Manage the API keys of the management API") { Aliases = { "apikey", "api" } };
        group.Subcommands.Add(List());
        group.Subcommands.Add(CreateKey(clock));
        group.Subcommands.Add(Expire());
        group.Subcommands.Add(Delete());
        return group;
    }

    private static Command List()
    {
        var command = new Command("list", "List the API keys") { Aliases = { "ls", "show" } };
        command.SetAction((parse, ct) => ManagementCall.RunAsync(parse, async (client, output, token) =>
        {
            var response = await client.ListApiKeysAsync(new ListApiKeysRequest(), cancellationToken: token);
            return ProtoOutput.Write(output, response, () =>
            {
                var table = new TextTable("ID", "Prefix", "Expiration", "Created");
                foreach (var key in response.ApiKeys.OrderBy(k => k.Id))
                {
                    table.Add(key.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), key.Prefix, ProtoOutput.Time(key.Expiration), ProtoOutput.Time(key.CreatedAt));
                }

                return table.ToString();
            });
        }, ct));
        return command;
    }

    private static Command CreateKey(TimeProvider clock)
    {
        var expiration = CliOptions.Duration("--expiration", "-e", "How long the key stays valid", TimeSpan.FromDays(90));
        var command = new Command("create", "Create an API key; the full key is shown only this once") { Aliases = { "c", "new" } };
        command.Options.Add(expiration);
        command.SetAction((parse, ct) => ManagementCall.RunAsync(parse, async (client, output, token) =>
        {
            var request = new CreateApiKeyRequest { Expiration = Timestamp.FromDateTimeOffset(clock.GetUtcNow() + parse.GetValue(expiration)) };
            var response = await client.CreateApiKeyAsync(request, cancellationToken: token);
            return ProtoOutput.Write(output, response, () => response.ApiKey);
        }, ct));
        return command;
    }

    private static Command Expire()
    {
        var prefix = Prefix();
        var command = new Command("expire", "Expire an API key: it stops working at once") { Aliases = { "revoke", "exp", "e" } };
        command.Options.Add(prefix);
        command.SetAction((parse, ct) => ManagementCall.RunAsync(parse, async (client, output, token) =>
        {
            var response = await client.ExpireApiKeyAsync(new ExpireApiKeyRequest { Prefix = parse.GetValue(prefix)!.Trim() }, cancellationToken: token);
            return ProtoOutput.Write(output, response, () => "Key expired");
        }, ct, () => $"API key '{parse.GetValue(prefix)!.Trim()}'"));
        return command;
    }

    private static Command Delete()
    {
        var prefix = Prefix();
        var command = new Command("delete", "Delete an API key") { Aliases = { "remove", "del" } };
        command.Options.Add(prefix);
        command.SetAction((parse, ct) => ManagementCall.RunAsync(parse, async (client, output, token) =>
        {
            var response = await client.DeleteApiKeyAsync(new DeleteApiKeyRequest { Prefix = parse.GetValue(prefix)!.Trim() }, cancellationToken: token);
            return ProtoOutput.Write(output, response, () => "Key deleted");
        }, ct, () => $"API key '{parse.GetValue(prefix)!.Trim()}'"));
        return command;
    }

    private static Option<string> Prefix() => CliOptions.Text("--prefix", ["-p"], "The key's prefix, as apikeys list shows it");
}
