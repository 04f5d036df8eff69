using System.CommandLine;
using Headscale.Api.Hosting;

namespace Headscale.Api.Cli;

/// <summary><c>headscale serve</c>: runs the server until SIGTERM or SIGINT.</summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var command = new Command("serve", "Run the control server");
        command.SetAction(async (parse, _) =>
        {
            var output = GlobalOptions.Writer(parse);
            var (config, raw, problems) = ConfigCommands.Load(parse);
            foreach (var warning in raw.Warnings)
            {
                output.Error.WriteLine($"Warning: {warning}");
            }

            if (config is null)
            {
                output.Error.WriteLine("Error: the configuration is invalid:" + string.Concat(problems.Select(p => $"\n  {p.Key}: {p.Message}")));
                return 1;
            }

            NoiseKey noiseKey;
            try
            {
                noiseKey = new NoiseKey(PrivateKeyFile.LoadOrCreate(config.NoisePrivateKeyPath));
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                output.WriteError($"noise.private_key_path: {e.Message}");
                return 1;
            }

            await using var app = ServerHost.Build(config, noiseKey);
            // The host handles SIGTERM/SIGINT itself and drains; the CLI's token is not used here.
            await ServerHost.PrepareAsync(app, CancellationToken.None);
            await app.StartAsync();
            ServerHost.LogStarted(app);
            await app.WaitForShutdownAsync();
            return 0;
        });
        return command;
    }
}
