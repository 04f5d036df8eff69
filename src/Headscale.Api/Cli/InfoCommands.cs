using System.CommandLine;
using System.Text.Json.Nodes;
using Headscale.Api.Hosting;

namespace Headscale.Api.Cli;

/// <summary><c>headscale version</c> and <c>headscale generate private-key</c>.</summary>
public static class InfoCommands
{
    public static Command Version()
    {
        var command = new Command("version", "Print the version");
        command.SetAction(parse =>
        {
            GlobalOptions.Writer(parse).Write(
                new JsonObject
                {
                    ["version"] = BuildInfo.ProductVersion,
                    ["commit"] = BuildInfo.Commit,
                    ["compatibleWith"] = BuildInfo.CompatibleHeadscaleVersion,
                },
                $"{BuildInfo.ProductName} {BuildInfo.ProductVersion} (commit {BuildInfo.Commit}, API compatible with headscale {BuildInfo.CompatibleHeadscaleVersion})");
            return 0;
        });
        return command;
    }

    public static Command Generate()
    {
        var privateKey = new Command("private-key", "Generate a private key (privkey:<64 hex>) for noise.private_key_path or derp.server.private_key_path");
        privateKey.SetAction(parse =>
        {
            var key = PrivateKeyFile.Format(PrivateKeyFile.Generate());
            GlobalOptions.Writer(parse).Write(new JsonObject { ["private_key"] = key }, key);
            return 0;
        });

        var command = new Command("generate", "Generate keys") { Aliases = { "gen" } };
        command.Subcommands.Add(privateKey);
        return command;
    }
}
