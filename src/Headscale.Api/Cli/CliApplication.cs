using System.CommandLine;

namespace Headscale.Api.Cli;

/// <summary>The <c>headscale</c> command line: one root, Headscale's command names.</summary>
public static class CliApplication
{
    public static RootCommand Create()
    {
        var root = new RootCommand("headscale - a self-hosted Tailscale control server on Akka.NET")
        {
            GlobalOptions.Config,
            GlobalOptions.Output,
        };
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(InfoCommands.Version());
        root.Subcommands.Add(ConfigCommands.ConfigTest());
        root.Subcommands.Add(InfoCommands.Generate());
        root.Subcommands.Add(new Command("policy", "Manage the policy")
        {
            PolicyOfflineCommands.Check(),
            PolicyOfflineCommands.Evaluate(),
        });
        return root;
    }

    public static Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null)
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

        return Create().Parse(args).InvokeAsync(configuration);
    }
}
