using System.CommandLine;
using System.Text.Json.Nodes;
using Headscale.Api.Configuration;

namespace Headscale.Api.Cli;

/// <summary>Loading the configuration for a command, and <c>headscale configtest</c>.</summary>
public static class ConfigCommands
{
    /// <summary>Loads and validates the configuration named by the global options and environment.</summary>
    public static (HeadscaleConfig? Config, RawConfig Raw, IReadOnlyList<ConfigProblem> Problems) Load(ParseResult parse)
    {
        var environment = Environment.GetEnvironmentVariables()
            .Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "", StringComparer.Ordinal);
        var raw = ConfigLoader.Load(parse.GetValue(GlobalOptions.Config), environment, Directory.GetCurrentDirectory());
        var (config, problems) = ConfigBinder.Bind(raw);
        return (config, raw, problems);
    }

    public static Command ConfigTest()
    {
        var command = new Command("configtest", "Check the configuration and exit: every problem is listed with its key");
        command.SetAction(parse =>
        {
            var output = GlobalOptions.Writer(parse);
            var (config, raw, problems) = Load(parse);
            foreach (var warning in raw.Warnings)
            {
                output.Error.WriteLine($"Warning: {warning}");
            }

            var source = raw.FilePath ?? "(no config file: defaults)";
            if (config is null)
            {
                var list = new JsonArray(problems.Select(p => (JsonNode)new JsonObject { ["key"] = p.Key, ["message"] = p.Message }).ToArray());
                var human = $"Configuration {source} is invalid:" + string.Concat(problems.Select(p => $"\n  {p.Key}: {p.Message}"));
                if (output.Format == OutputFormat.Human)
                {
                    output.Error.WriteLine(human);
                }
                else
                {
                    output.Write(new JsonObject { ["valid"] = false, ["config"] = source, ["problems"] = list }, human);
                }

                return 1;
            }

            output.Write(new JsonObject { ["valid"] = true, ["config"] = source }, $"Configuration {source} is valid");
            return 0;
        });
        return command;
    }
}
