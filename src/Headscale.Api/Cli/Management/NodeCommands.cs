using System.CommandLine;
using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Headscale.Management.V1;

namespace Headscale.Api.Cli.Management;

/// <summary>
/// <c>headscale nodes</c> (aliases <c>node</c>, <c>machine</c>, <c>machines</c>) with the 0.27
/// subcommands. <c>delete</c> and <c>backfillips</c> ask for confirmation.
/// </summary>
public static class NodeCommands
{
    public static Command Create(CliInput input, TimeProvider clock)
    {
        var group = new Command("nodes", "Manage the nodes") { Aliases = { "node", "machine", "machines" } };
        group.Subcommands.Add(Register());
        group.Subcommands.Add(List(clock));
        group.Subcommands.Add(ListRoutes());
        group.Subcommands.Add(Expire());
        group.Subcommands.Add(Rename());
        group.Subcommands.Add(Delete(input));
        group.Subcommands.Add(Move());
        group.Subcommands.Add(Tag());
        group.Subcommands.Add(ApproveRoutes());
        group.Subcommands.Add(BackfillIps(input));
        return group;
    }

    private static string Subject(ParseResult parse, Option<ulong> id) => $"node {parse.GetValue(id)}";

    private static Option<ulong> NodeId() => CliOptions.Id("--identifier", "-i", "The node's id");

    private static Command Register()
    {
        var command = new Command("register", "Register a node waiting for approval to a user");
        var user = CliOptions.AddUserWithNamespace(command, CliOptions.Text("--user", ["-u"], "Name of the user who owns the node"));
        var key = CliOptions.Text("--key", ["-k"], "The registration id shown to the client");
        command.Options.Add(key);
        command.SetAction((parse, ct) => ManagementCall.RunAsync(parse, async (client, output, token) =>
        {
            var request = new RegisterNodeRequest { User = user.GetValue(parse)!.Trim(), Key = parse.GetValue(key)!.Trim() };
            var response = await client.RegisterNodeAsync(request, cancellationToken: token);
            return ProtoOutput.Write(output, response, () => $"Node {response.Node?.GivenName} registered");
        }, ct, () => $"registering '{parse.GetValue(key)!.Trim()}' to user '{user.GetValue(parse)!.Trim()}'"));
        return command;
    }

    private static Command List(TimeProvider clock)
    {
        var tags = new Option<bool>("--tags", "-t") { Description = "Show the tag columns" };
        var command = new Command("list", "List the nodes") { Aliases = { "ls", "show" } };
        var user = CliOptions.AddUserWithNamespace(command, new Option<string>("--user", "-u") { Description = "Only the nodes of the user with this name" });
        command.Options.Add(tags);
        command.SetAction((parse, ct) => ManagementCall.RunAsync(parse, async (client, output, token) =>
        {
            var response = await client.ListNodesAsync(new ListNodesRequest { User = user.GetValue(parse)?.Trim() ?? "" }, cancellationToken: token);
            return ProtoOutput.Write(output, response, () => NodeTables.Nodes(response.Nodes, clock.GetUtcNow(), parse.GetValue(tags)).ToString());
        }, ct, () => user.GetValue(parse) is { } name && !string.IsNullOrWhiteSpace(name) ? $"user '{name.Trim()}'" : null));
        return command;
    }

    private static Command ListRoutes()
    {
        var id = CliOptions.Id("--identifier", "-i", "Only this node", required: false);
        var command = new Command("list-routes", "List the routes nodes announce, the approved ones and the ones served") { Aliases = { "lsr", "routes" } };
        command.Options.Add(id);
        command.SetAction((parse, ct) => ManagementCall.RunAsync(parse, async (client, output, token) =>
        {
            var nodeId = parse.GetValue(id);
            if (nodeId > 0)
            {
                var one = await client.GetNodeAsync(new GetNodeRequest { NodeId = nodeId }, cancellationToken: token);
                return ProtoOutput.Write(output, one, () => NodeTables.Routes([one.Node]).ToString());
            }

            var all = await client.ListNodesAsync(new ListNodesRequest(), cancellationToken: token);
            var routed = all.Nodes.Where(n => n.AvailableRoutes.Count > 0 || n.ApprovedRoutes.Count > 0 || n.SubnetRoutes.Count > 0);
            return ProtoOutput.Write(output, all, () => NodeTables.Routes(routed).ToString());
        }, ct, () => parse.GetValue(id) > 0 ? Subject(parse, id) : null));
        return command;
    }

    private static Command Expire()
    {
        var id = NodeId();
        var expiry = new Option<DateTimeOffset?>("--expiry", "-e")
        {
            Description = "When the node expires (RFC 3339); default now",
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when) && text.Contains('T', StringComparison.Ordinal))
                {
                    return when;
                }

                result.AddError($"--expiry: '{text}' is not an RFC 3339 time such as 2026-12-31T23:00:00Z");
                return null;
            },
        };
        var command = new Command("expire", "Expire a node: its key stops working until it logs in again") { Aliases = { "logout", "exp", "e" } };
        command.Options.Add(id);
        command.Options.Add(expiry);
        command.SetAction((parse, ct) => ManagementCall.RunAsync(parse, async (client, output, token) =>
        {
            var request = new ExpireNodeRequest { NodeId = parse.GetValue(id) };
            if (parse.GetValue(expiry) is { } when)
            {
                request.Expiry = Timestamp.FromDateTimeOffset(when);
            }

            var response = await client.ExpireNodeAsync(request, cancellationToken: token);
            return ProtoOutput.Write(output, response, () => "Node expired");
        }, ct, () => Subject(parse, id)));
        return command;
    }

    private static Command Rename()
    {
        var id = NodeId();
        var command = new Command("rename", "Rename a node (its MagicDNS name)") { id };
        var newName = CliOptions.RequiredArgument(command, "new-name", "the node's new name");
        command.Validators.Add(result =>
        {
            if (result.GetValue(newName) is { } text && text.Any(char.IsWhiteSpace) && !string.IsNullOrWhiteSpace(text))
            {
                result.AddError($"NEW-NAME: '{text}' is not a node name (no spaces)");
            }
        });
        command.SetAction((parse, ct) => ManagementCall.RunAsync(parse, async (client, output, token) =>
        {
            var response = await client.RenameNodeAsync(new RenameNodeRequest { NodeId = parse.GetValue(id), NewName = parse.GetValue(newName)! }, cancellationToken: token);
            return ProtoOutput.Write(output, response, () => "Node renamed");
        }, ct, () => Subject(parse, id)));
        return command;
    }

    private static Command Delete(CliInput input)
    {
        var id = NodeId();
        var command = new Command("delete", "Delete a node (asks for confirmation)") { Aliases = { "del" } };
        command.Options.Add(id);
        command.SetAction((parse, ct) => ManagementCall.RunAsync(parse, async (client, output, token) =>
        {
            var nodeId = parse.GetValue(id);
            var force = parse.GetValue(GlobalOptions.Force);
            var label = $"id {nodeId}";
            if (!force && input.IsInteractive)
            {
                var node = (await client.GetNodeAsync(new GetNodeRequest { NodeId = nodeId }, cancellationToken: token)).Node;
                label = $"'{node?.GivenName}' (id {nodeId})";
            }

            if (!input.Confirm(force, $"Do you want to delete the node {label}?", output, parse.InvocationConfiguration.Error))
            {
                return 1;
            }

            var response = await client.DeleteNodeAsync(new DeleteNodeRequest { NodeId = nodeId }, cancellationToken: token);
            return ProtoOutput.Write(output, response, () => "Node deleted");
        }, ct, () => Subject(parse, id)));
        return command;
    }

    private static Command Move()
    {
        var id = NodeId();
        var user = CliOptions.Id("--user", "-u", "Id of the user to move the node to");
        var command = new Command("move", "Move a node to another user") { Aliases = { "mv" } };
        command.Options.Add(id);
        command.Options.Add(user);
        command.SetAction((parse, ct) => ManagementCall.RunAsync(parse, async (client, output, token) =>
        {
            var response = await client.MoveNodeAsync(new MoveNodeRequest { NodeId = parse.GetValue(id), User = parse.GetValue(user) }, cancellationToken: token);
            return ProtoOutput.Write(output, response, () => $"Node moved to user {response.Node?.User?.Name}");
        }, ct, () => $"moving node {parse.GetValue(id)} to user {parse.GetValue(user)}"));
        return command;
    }

    private static Command Tag()
    {
        var id = NodeId();
        var tags = CliOptions.List("--tags", ["-t"], "Tags to force on the node, replacing the current ones (tag:name, comma-separated; \"\" clears)", CliOptions.CheckTag);
        tags.Required = true;
        var command = new Command("tag", "Set the forced tags of a node") { Aliases = { "tags", "t" } };
        command.Options.Add(id);
        command.Options.Add(tags);
        command.SetAction((parse, ct) => ManagementCall.RunAsync(parse, async (client, output, token) =>
        {
            var request = new SetTagsRequest { NodeId = parse.GetValue(id), Tags = { parse.GetValue(tags)! } };
            var response = await client.SetTagsAsync(request, cancellationToken: token);
            return ProtoOutput.Write(output, response, () => "Node updated");
        }, ct, () => Subject(parse, id)));
        return command;
    }

    private static Command ApproveRoutes()
    {
        var id = NodeId();
        var routes = CliOptions.List("--routes", ["-r"], "Routes to approve, replacing the current ones (comma-separated prefixes; \"\" clears)", CliOptions.CheckPrefix);
        routes.Required = true;
        var command = new Command("approve-routes", "Set the approved routes of a node") { id, routes };
        command.SetAction((parse, ct) => ManagementCall.RunAsync(parse, async (client, output, token) =>
        {
            var request = new SetApprovedRoutesRequest { NodeId = parse.GetValue(id), Routes = { parse.GetValue(routes)! } };
            var response = await client.SetApprovedRoutesAsync(request, cancellationToken: token);
            return ProtoOutput.Write(output, response, () => "Node updated");
        }, ct, () => Subject(parse, id)));
        return command;
    }

    private static Command BackfillIps(CliInput input)
    {
        var command = new Command("backfillips", "Give every node the addresses it lacks from the configured prefixes (asks for confirmation)");
        command.SetAction((parse, ct) => ManagementCall.RunAsync(parse, async (client, output, token) =>
        {
            const string question = "Are you sure that you want to assign/remove IPs to/from nodes?";
            if (!input.Confirm(parse.GetValue(GlobalOptions.Force), question, output, parse.InvocationConfiguration.Error))
            {
                return 1;
            }

            var response = await client.BackfillNodeIPsAsync(new BackfillNodeIPsRequest { Confirmed = true }, cancellationToken: token);
            return ProtoOutput.Write(output, response, () => response.Changes.Count == 0 ? "No changes" : string.Join('\n', response.Changes), whole: true);
        }, ct));
        return command;
    }
}
