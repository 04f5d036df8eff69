using System.CommandLine;
using System.CommandLine.Parsing;
using Headscale.Api.Cli.Management;

namespace Headscale.Api.Cli;

/// <summary>The <c>headscale</c> command line: one root, Headscale's command names.</summary>
public static class CliApplication
{
    /// <param name="input">Where confirmation prompts read answers; null: the console.</param>
    /// <param name="clock">The time expirations are computed from; null: the system clock.</param>
    public static RootCommand Create(CliInput? input = null, TimeProvider? clock = null)
    {
        input ??= CliInput.FromConsole();
        clock ??= TimeProvider.System;
        var root = new RootCommand("headscale - a self-hosted Tailscale control server on Akka.NET")
        {
            GlobalOptions.Config,
            GlobalOptions.Output,
            GlobalOptions.Force,
        };
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(InfoCommands.Version());
        root.Subcommands.Add(ConfigCommands.ConfigTest());
        root.Subcommands.Add(InfoCommands.Generate());
        root.Subcommands.Add(HealthCommand.Create());
        root.Subcommands.Add(UserCommands.Create(input));
        root.Subcommands.Add(NodeCommands.Create(input, clock));
        root.Subcommands.Add(PreAuthKeyCommands.Create(clock));
        root.Subcommands.Add(ApiKeyCommands.Create(clock));
        root.Subcommands.Add(new Command("policy", "Manage the policy")
        {
            PolicyCommands.Get(),
            PolicyCommands.Set(),
            PolicyOfflineCommands.Check(),
            PolicyOfflineCommands.Evaluate(),
        });
        root.Subcommands.Add(DebugCommands.Create());
        root.Subcommands.Add(AuditCommands.Create(clock));
        return root;
    }

    public static Task<int> RunAsync(
        string[] args, TextWriter? output = null, TextWriter? error = null, CliInput? input = null, TimeProvider? clock = null)
    {
        var configuration = new InvocationConfiguration
        {
            // serve drains on SIGTERM through the host; the CLI must not kill the process first.
            ProcessTerminationTimeout = null,
        };
        if (output is not null)
        {
            configuration.Output = output;
        }

        if (error is not null)
        {
            configuration.Error = error;
        }

        var parse = Create(input, clock).Parse(args);
        if (parse.Errors.Count > 0)
        {
            // One line per problem, each naming the flag; the full help would bury it.
            foreach (var problem in parse.Errors)
            {
                configuration.Error.WriteLine($"Error: {problem.Message}");
            }

            return Task.FromResult(1);
        }

        WarnAboutDeprecatedFlags(parse, configuration.Error);
        return parse.InvokeAsync(configuration);
    }

    /// <summary>Headscale's wording for its hidden, deprecated <c>--namespace</c> flag (on stderr, so output stays parseable).</summary>
    private static void WarnAboutDeprecatedFlags(ParseResult parse, TextWriter error)
    {
        for (SymbolResult? result = parse.CommandResult; result is not null; result = result.Parent)
        {
            if (result is CommandResult command
                && command.Children.OfType<OptionResult>().Any(o => o.Option.Name == "--namespace" && !o.Implicit))
            {
                error.WriteLine("Flag --namespace has been deprecated, use --user");
                return;
            }
        }
    }
}
