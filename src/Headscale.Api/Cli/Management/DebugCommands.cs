using System.CommandLine;
using Headscale.Management.V1;

namespace Headscale.Api.Cli.Management;

/// <summary><c>headscale debug create-node</c>: puts a fake node awaiting registration into the server (for tests).</summary>
public static class DebugCommands
{
    public static Command Create()
    {
        var name = CliOptions.Text("--name", [], "Name of the node");
        var key = CliOptions.Text("--key", ["-k"], "Registration id of the node");
        var routes = CliOptions.List("--route", ["-r"], "Routes the node announces (comma-separated prefixes)", CliOptions.CheckPrefix);
        var createNode = new Command("create-node", "Create a node that waits for registration") { name };
        var user = CliOptions.AddUserWithNamespace(createNode, CliOptions.Text("--user", ["-u"], "Name of the user who will own the node"));
        createNode.Options.Add(key);
        createNode.Options.Add(routes);
        createNode.SetAction((parse, ct) => ManagementCall.RunAsync(parse, async (client, output, token) =>
        {
            var request = new DebugCreateNodeRequest
            {
                Name = parse.GetValue(name)!.Trim(),
                User = user.GetValue(parse)!.Trim(),
                Key = parse.GetValue(key)!.Trim(),
                Routes = { parse.GetValue(routes) ?? [] },
            };
            var response = await client.DebugCreateNodeAsync(request, cancellationToken: token);
            return ProtoOutput.Write(output, response, () => "Node created");
        }, ct, () => $"node '{parse.GetValue(name)!.Trim()}' for user '{user.GetValue(parse)!.Trim()}'"));

        var group = new Command("debug", "Debugging commands for tests");
        group.Subcommands.Add(createNode);
        return group;
    }
}
