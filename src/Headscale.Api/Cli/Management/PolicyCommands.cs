using System.CommandLine;
using Headscale.Management.V1;

namespace Headscale.Api.Cli.Management;

/// <summary>
/// <c>headscale policy get</c> and <c>policy set -f FILE</c> through the server (the offline
/// <c>check</c>/<c>evaluate</c> live in <see cref="PolicyOfflineCommands"/>).
/// </summary>
public static class PolicyCommands
{
    // Headscale 0.27 can read and write its SQL database directly; here the policy lives in the
    // actor journal, which only a running server may write, so the flag is refused by name.
    private const string BypassFlag = "--bypass-grpc-and-access-database-directly";

    public static Command Get()
    {
        var bypass = Bypass();
        var command = new Command("get", "Print the policy the server uses") { Aliases = { "show", "view", "fetch" } };
        command.Options.Add(bypass);
        command.SetAction((parse, ct) => RefuseBypass(parse, bypass) ?? ManagementCall.RunAsync(parse, async (client, output, token) =>
        {
            var response = await client.GetPolicyAsync(new GetPolicyRequest(), cancellationToken: token);
            return ProtoOutput.Write(output, response, () => response.Policy);
        }, ct));
        return command;
    }

    public static Command Set()
    {
        var file = new Option<FileInfo>("--file", "-f") { Description = "HuJSON policy file to upload", Required = true };
        var bypass = Bypass();
        var command = new Command("set", "Replace the policy (policy.mode: database only)") { Aliases = { "put", "update" } };
        command.Options.Add(file);
        command.Options.Add(bypass);
        command.SetAction((parse, ct) =>
        {
            if (RefuseBypass(parse, bypass) is { } refused)
            {
                return refused;
            }

            var path = parse.GetValue(file)!;
            if (!path.Exists)
            {
                GlobalOptions.Writer(parse).WriteError($"--file: {path.FullName} does not exist");
                return Task.FromResult(1);
            }

            var policy = File.ReadAllText(path.FullName);
            if (string.IsNullOrWhiteSpace(policy))
            {
                GlobalOptions.Writer(parse).WriteError($"--file: {path.FullName} is empty");
                return Task.FromResult(1);
            }

            return ManagementCall.RunAsync(parse, async (client, output, token) =>
            {
                var response = await client.SetPolicyAsync(new SetPolicyRequest { Policy = policy }, cancellationToken: token);
                return ProtoOutput.Write(output, response, () => "Policy updated.");
            }, ct);
        });
        return command;
    }

    private static Option<bool> Bypass() => new(BypassFlag) { Description = "Not supported: the policy is only reachable through the server", Hidden = true };

    private static Task<int>? RefuseBypass(ParseResult parse, Option<bool> bypass)
    {
        if (!parse.GetValue(bypass))
        {
            return null;
        }

        GlobalOptions.Writer(parse).WriteError($"{BypassFlag} is not supported: the policy lives in the server's journal; run the command against a running server");
        return Task.FromResult(1);
    }
}
