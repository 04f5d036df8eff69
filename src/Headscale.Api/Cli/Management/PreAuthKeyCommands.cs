using System.CommandLine;
using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Headscale.Management.V1;

namespace Headscale.Api.Cli.Management;

/// <summary>
/// <c>headscale preauthkeys</c> (aliases <c>preauthkey</c>, <c>authkey</c>, <c>pre</c>): list,
/// create, expire, all for the user given by the group's <c>-u/--user</c> id (0.27 semantics).
/// </summary>
public static class PreAuthKeyCommands
{
    public static Command Create(TimeProvider clock)
    {
        var id = CliOptions.Id("--user", "-u", "Id of the user the keys belong to");
        id.Recursive = true;
        var group = new Command("preauthkeys", "Manage the pre-authentication keys of a user") { Aliases = { "preauthkey", "authkey", "pre" } };
        var user = CliOptions.AddUserWithNamespace(group, id);
        group.Subcommands.Add(List(user));
        group.Subcommands.Add(CreateKey(user, clock));
        group.Subcommands.Add(Expire(user));
        foreach (var subcommand in group.Subcommands)
        {
            user.CheckOn(subcommand);
        }

        return group;
    }

    public static TextTable Table(IEnumerable<PreAuthKey> keys)
    {
        var table = new TextTable("ID", "Key", "Reusable", "Ephemeral", "Used", "Expiration", "Created", "Tags");
        foreach (var key in keys)
        {
            table.Add(
                key.Id.ToString(CultureInfo.InvariantCulture), key.Key, ProtoOutput.YesNo(key.Reusable), ProtoOutput.YesNo(key.Ephemeral),
                ProtoOutput.YesNo(key.Used), ProtoOutput.Time(key.Expiration), ProtoOutput.Time(key.CreatedAt), ProtoOutput.Join(key.AclTags));
        }

        return table;
    }

    private static string Subject(ParseResult parse, UserOption<ulong> user) => $"user {user.GetValue(parse)}";

    private static Command List(UserOption<ulong> user)
    {
        var command = new Command("list", "List the user's pre-authentication keys") { Aliases = { "ls", "show" } };
        command.SetAction((parse, ct) => ManagementCall.RunAsync(parse, async (client, output, token) =>
        {
            var response = await client.ListPreAuthKeysAsync(new ListPreAuthKeysRequest { User = user.GetValue(parse) }, cancellationToken: token);
            return ProtoOutput.Write(output, response, () => Table(response.PreAuthKeys).ToString());
        }, ct, () => Subject(parse, user)));
        return command;
    }

    private static Command CreateKey(UserOption<ulong> user, TimeProvider clock)
    {
        var reusable = new Option<bool>("--reusable") { Description = "The key can register any number of nodes" };
        var ephemeral = new Option<bool>("--ephemeral") { Description = "Nodes registered with the key are removed when they go offline" };
        var expiration = CliOptions.Duration("--expiration", "-e", "How long the key stays valid", TimeSpan.FromHours(1));
        var tags = CliOptions.List("--tags", [], "Tags given to the nodes registered with the key (tag:name, comma-separated)", CliOptions.CheckTag);
        var command = new Command("create", "Create a pre-authentication key; prints the key") { Aliases = { "c", "new" } };
        command.Options.Add(reusable);
        command.Options.Add(ephemeral);
        command.Options.Add(expiration);
        command.Options.Add(tags);
        command.SetAction((parse, ct) => ManagementCall.RunAsync(parse, async (client, output, token) =>
        {
            var request = new CreatePreAuthKeyRequest
            {
                User = user.GetValue(parse),
                Reusable = parse.GetValue(reusable),
                Ephemeral = parse.GetValue(ephemeral),
                Expiration = Timestamp.FromDateTimeOffset(clock.GetUtcNow() + parse.GetValue(expiration)),
                AclTags = { parse.GetValue(tags) ?? [] },
            };
            var response = await client.CreatePreAuthKeyAsync(request, cancellationToken: token);
            return ProtoOutput.Write(output, response, () => response.PreAuthKey?.Key ?? "");
        }, ct, () => Subject(parse, user)));
        return command;
    }

    private static Command Expire(UserOption<ulong> user)
    {
        var command = new Command("expire", "Expire a pre-authentication key") { Aliases = { "revoke", "exp", "e" } };
        var key = CliOptions.RequiredArgument(command, "key", "the pre-authentication key to expire");
        command.SetAction((parse, ct) => ManagementCall.RunAsync(parse, async (client, output, token) =>
        {
            var request = new ExpirePreAuthKeyRequest { User = user.GetValue(parse), Key = parse.GetValue(key)!.Trim() };
            var response = await client.ExpirePreAuthKeyAsync(request, cancellationToken: token);
            return ProtoOutput.Write(output, response, () => "Key expired");
        }, ct, () => Subject(parse, user)));
        return command;
    }
}
