using System.Globalization;

namespace Headscale.Bench.Map;

/// <summary>Command-line settings of the <c>map</c> load generator, validated before anything is started.</summary>
internal sealed record MapBenchSettings(
    int Nodes,
    string ServerExe,
    int Concurrency,
    TimeSpan SetupTimeout,
    TimeSpan ChangeTimeout,
    TimeSpan IdleWait,
    IReadOnlyDictionary<string, string> ServerEnvironment)
{
    public const string Usage =
        "usage: map [--nodes N (1..19000, default 1000)] [--server-exe path/to/headscale.dll] [--concurrency 1..1024 (default 64)]\n" +
        "           [--setup-timeout seconds (default 300)] [--change-timeout seconds (default 30)] [--idle seconds (default 5)]\n" +
        "           [--server-env NAME=VALUE (repeatable; e.g. DOTNET_gcServer=0 to try a runtime setting on the server only)]";

    public static string DefaultServerExe => Path.Combine(AppContext.BaseDirectory, "headscale.dll");

    /// <summary>The settings, or an error naming the offending argument.</summary>
    public static (MapBenchSettings? Settings, string? Error) Parse(IReadOnlyList<string> args)
    {
        var settings = new MapBenchSettings(1000, DefaultServerExe, 64, TimeSpan.FromSeconds(300), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5),
            new Dictionary<string, string>(StringComparer.Ordinal));
        for (var i = 0; i < args.Count; i += 2)
        {
            var name = args[i];
            if (i + 1 >= args.Count)
            {
                return (null, $"{name} needs a value");
            }

            var value = args[i + 1];
            switch (name)
            {
                case "--nodes":
                    if (!TryInt(value, 1, 19_000, out var nodes))
                    {
                        return (null, $"--nodes must be an integer from 1 to 19000, got '{value}'");
                    }

                    settings = settings with { Nodes = nodes };
                    break;
                case "--concurrency":
                    if (!TryInt(value, 1, 1024, out var concurrency))
                    {
                        return (null, $"--concurrency must be an integer from 1 to 1024, got '{value}'");
                    }

                    settings = settings with { Concurrency = concurrency };
                    break;
                case "--server-exe":
                    if (!File.Exists(value) || !value.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
                    {
                        return (null, $"--server-exe must name an existing headscale.dll, got '{value}'");
                    }

                    settings = settings with { ServerExe = Path.GetFullPath(value) };
                    break;
                case "--setup-timeout":
                case "--change-timeout":
                case "--idle":
                    if (!TryInt(value, name == "--idle" ? 0 : 1, 3600, out var seconds))
                    {
                        return (null, $"{name} must be a whole number of seconds from {(name == "--idle" ? 0 : 1)} to 3600, got '{value}'");
                    }

                    var span = TimeSpan.FromSeconds(seconds);
                    settings = name switch
                    {
                        "--setup-timeout" => settings with { SetupTimeout = span },
                        "--change-timeout" => settings with { ChangeTimeout = span },
                        _ => settings with { IdleWait = span },
                    };
                    break;
                case "--server-env":
                    var equals = value.IndexOf('=', StringComparison.Ordinal);
                    if (equals <= 0 || value[..equals].Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '_')))
                    {
                        return (null, $"--server-env must be NAME=VALUE with NAME made of letters, digits and '_', got '{value}'");
                    }

                    settings = settings with
                    {
                        ServerEnvironment = new Dictionary<string, string>(settings.ServerEnvironment, StringComparer.Ordinal)
                        {
                            [value[..equals]] = value[(equals + 1)..],
                        },
                    };
                    break;
                default:
                    return (null, $"unknown argument '{name}'");
            }
        }

        if (!File.Exists(settings.ServerExe))
        {
            return (null, $"the server was not found at {settings.ServerExe}; build src/Headscale.Api or pass --server-exe");
        }

        return (settings, null);
    }

    private static bool TryInt(string text, int min, int max, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;
}
