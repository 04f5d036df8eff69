using System.CommandLine;

namespace Headscale.Api.Cli;

/// <summary>Options every command accepts, as in Headscale's CLI.</summary>
public static class GlobalOptions
{
    public static readonly Option<string?> Config = new("--config", "-c")
    {
        Description = "Path to config.yaml (default: $HEADSCALE_CONFIG, /etc/headscale/, ~/.headscale/, ./)",
        Recursive = true,
    };

    public static readonly Option<string> Output = new("--output", "-o")
    {
        Description = "Output format: human (default), json, json-line or yaml",
        Recursive = true,
        DefaultValueFactory = _ => "human",
    };

    /// <summary>Skips confirmation prompts; required for destructive commands when stdin is not a terminal.</summary>
    public static readonly Option<bool> Force = new("--force")
    {
        Description = "Disable prompts and force the execution",
        Recursive = true,
    };

    static GlobalOptions()
    {
        Output.Validators.Add(result =>
        {
            var text = result.GetValueOrDefault<string>();
            if (!OutputWriter.TryParse(text, out _))
            {
                result.AddError($"--output: '{text}' is not one of human, json, json-line, yaml");
            }
        });
    }

    public static OutputWriter Writer(ParseResult parse)
    {
        OutputWriter.TryParse(parse.GetValue(Output), out var format);
        return new OutputWriter(format, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
    }
}
