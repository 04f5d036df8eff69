using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using YamlDotNet.RepresentationModel;

namespace Headscale.Api.Configuration;

/// <summary>
/// Typed reads over <see cref="RawConfig"/> that never throw: a bad value is recorded as a
/// <see cref="ConfigProblem"/> naming the key, and the default is used so that every other
/// problem is still found in the same pass.
/// </summary>
internal sealed class ConfigReader(RawConfig raw)
{
    public List<ConfigProblem> Problems { get; } = [.. raw.Problems];

    public RawConfig Raw => raw;

    public bool Has(string key) => raw.Values.TryGetValue(key, out var v) && !v.IsNullValue;

    public void Fail(string key, string message) => Problems.Add(new ConfigProblem(key, message));

    public string String(string key, string fallback)
    {
        if (!raw.Values.TryGetValue(key, out var value) || value.IsNullValue)
        {
            return fallback;
        }

        if (value.Scalar is { } text)
        {
            return text;
        }

        Fail(key, $"expected a single value ({value.Origin})");
        return fallback;
    }

    public bool Bool(string key, bool fallback)
    {
        var text = String(key, "");
        if (text.Length == 0)
        {
            return fallback;
        }

        switch (text.Trim().ToLowerInvariant())
        {
            case "true" or "yes" or "on" or "1":
                return true;
            case "false" or "no" or "off" or "0":
                return false;
            default:
                Fail(key, $"'{text}' is not a boolean (true or false)");
                return fallback;
        }
    }

    public int Int(string key, int fallback, int min, int max)
    {
        var text = String(key, "");
        if (text.Length == 0)
        {
            return fallback;
        }

        if (int.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        Fail(key, $"'{text}' is not a whole number from {min} to {max}");
        return fallback;
    }

    public TimeSpan Duration(string key, TimeSpan fallback)
    {
        var text = String(key, "");
        if (text.Length == 0)
        {
            return fallback;
        }

        if (GoDuration.TryParse(text, out var value) && value >= TimeSpan.Zero)
        {
            return value;
        }

        Fail(key, $"'{text}' is not a duration (examples: 30s, 15m, 1h30m, 180d)");
        return fallback;
    }

    public TimeSpan Duration(string key, TimeSpan fallback, TimeSpan min, TimeSpan max)
    {
        var value = Duration(key, fallback);
        if (value < min || value > max)
        {
            Fail(key, $"'{String(key, "")}' must be from {GoDuration.Format(min)} to {GoDuration.Format(max)}");
            return fallback;
        }

        return value;
    }

    public ListenAddress? Address(string key, string fallback, bool allowEmpty = false)
    {
        var text = String(key, fallback).Trim();
        if (text.Length == 0)
        {
            if (!allowEmpty)
            {
                Fail(key, "must not be empty (expected host:port, e.g. 127.0.0.1:8080)");
            }

            return null;
        }

        if (ListenAddress.TryParse(text, out var address, out var error))
        {
            return address;
        }

        Fail(key, error!);
        return null;
    }

    public T Choice<T>(string key, T fallback, params (string Text, T Value)[] choices)
    {
        var text = String(key, "");
        if (text.Length == 0)
        {
            return fallback;
        }

        foreach (var (choiceText, choiceValue) in choices)
        {
            if (string.Equals(choiceText, text.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return choiceValue;
            }
        }

        Fail(key, $"'{text}' is not one of: {string.Join(", ", choices.Select(c => c.Text).Distinct())}");
        return fallback;
    }

    public ImmutableArray<string> List(string key)
    {
        if (!raw.Values.TryGetValue(key, out var value) || value.IsNullValue)
        {
            return [];
        }

        switch (value.Node)
        {
            case YamlSequenceNode sequence:
                var items = ImmutableArray.CreateBuilder<string>();
                foreach (var item in sequence.Children)
                {
                    if (item is YamlScalarNode { Value: { } text })
                    {
                        items.Add(text);
                    }
                    else
                    {
                        Fail(key, $"every item must be a single value ({value.Origin})");
                    }
                }

                return items.ToImmutable();
            case YamlScalarNode { Value: { } single } when single.Length > 0:
                return [single];
            case YamlScalarNode:
                return [];
            default:
                Fail(key, $"expected a list ({value.Origin})");
                return [];
        }
    }

    public YamlNode? Node(string key) =>
        raw.Values.TryGetValue(key, out var value) && !value.IsNullValue ? value.Node : null;

    /// <summary>Resolves a path against the config file's directory (Headscale's rule) or the working directory.</summary>
    public string Path(string key, string fallback)
    {
        var text = String(key, fallback).Trim();
        if (text.Length == 0)
        {
            return "";
        }

        if (text.StartsWith("~/", StringComparison.Ordinal))
        {
            text = System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), text[2..]);
        }

        return System.IO.Path.GetFullPath(text, raw.BaseDirectory);
    }

    /// <summary>
    /// Checks that a file the server creates can be created: the nearest existing ancestor of its
    /// directory must be a directory we may write to.
    /// </summary>
    public void WritableFileLocation(string key, string path)
    {
        if (path.Length == 0)
        {
            return;
        }

        if (Directory.Exists(path))
        {
            Fail(key, $"'{path}' is a directory, expected a file path");
            return;
        }

        var directory = System.IO.Path.GetDirectoryName(path);
        while (!string.IsNullOrEmpty(directory) && !Directory.Exists(directory))
        {
            if (File.Exists(directory))
            {
                Fail(key, $"'{path}' is not reachable: '{directory}' is a file, not a directory");
                return;
            }

            directory = System.IO.Path.GetDirectoryName(directory);
        }

        if (string.IsNullOrEmpty(directory))
        {
            Fail(key, $"'{path}' is not reachable: no existing parent directory");
            return;
        }

        if (!File.Exists(path) && !CanWrite(directory))
        {
            Fail(key, $"'{path}' is not reachable: directory '{directory}' is not writable");
        }
    }

    public void ReadableFile(string key, string path)
    {
        if (path.Length > 0 && !File.Exists(path))
        {
            Fail(key, $"file '{path}' does not exist");
        }
    }

    public IPNetwork? Prefix(string key, string fallback, IPNetwork allowed, string allowedText)
    {
        var text = String(key, fallback).Trim();
        if (text.Length == 0)
        {
            return null;
        }

        if (!IPNetwork.TryParse(text, out var network))
        {
            Fail(key, $"'{text}' is not a CIDR prefix (e.g. {allowedText})");
            return null;
        }

        if (network.BaseAddress.AddressFamily != allowed.BaseAddress.AddressFamily
            || network.PrefixLength < allowed.PrefixLength
            || !allowed.Contains(network.BaseAddress))
        {
            Fail(key, $"'{text}' is outside {allowedText}; Tailscale clients only route addresses inside it");
            return null;
        }

        return network;
    }

    private static bool CanWrite(string directory)
    {
        try
        {
            var probe = System.IO.Path.Combine(directory, $".headscale-write-check-{Environment.ProcessId}");
            using (File.Create(probe, 1, FileOptions.DeleteOnClose))
            {
            }

            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
