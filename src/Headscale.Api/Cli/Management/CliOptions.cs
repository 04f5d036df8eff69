using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using Headscale.Api.Configuration;

namespace Headscale.Api.Cli.Management;

/// <summary>
/// Options whose values are checked while parsing, so a bad argument is refused before any call to
/// the server with a message naming the flag.
/// </summary>
public static class CliOptions
{
    /// <summary>A positive integer id (node, user, key).</summary>
    public static Option<ulong> Id(string name, string alias, string description, bool required = true) =>
        new(name, alias)
        {
            Description = description,
            Required = required,
            CustomParser = result => ParseId(result, name),
        };

    public static ulong ParseId(ArgumentResult result, string flag)
    {
        var text = LastToken(result);
        if (ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0)
        {
            return id;
        }

        result.AddError($"{flag}: '{text}' is not a positive integer id");
        return 0;
    }

    /// <summary>A positive duration such as <c>30m</c>, <c>24h</c> or <c>90d</c>.</summary>
    public static Option<TimeSpan> Duration(string name, string alias, string description, TimeSpan defaultValue) =>
        new(name, alias)
        {
            Description = $"{description} (e.g. 30m, 24h, 90d; default {GoDuration.Format(defaultValue)})",
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result =>
            {
                var text = LastToken(result);
                if (GoDuration.TryParse(text, out var value) && value > TimeSpan.Zero)
                {
                    return value;
                }

                result.AddError($"{name}: '{text}' is not a positive duration such as 30m, 24h or 90d");
                return TimeSpan.Zero;
            },
        };

    /// <summary>
    /// A list given as repeated flags or comma-separated (<c>-t tag:a,tag:b</c>); an empty string
    /// gives an empty list. Each item must pass <paramref name="check"/> (null: fine, else the problem).
    /// </summary>
    public static Option<string[]> List(string name, string[] aliases, string description, Func<string, string?> check) =>
        new(name, aliases)
        {
            Description = description,
            CustomParser = result =>
            {
                var items = result.Tokens
                    .SelectMany(t => t.Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                    .ToArray();
                foreach (var item in items)
                {
                    if (check(item) is { } problem)
                    {
                        result.AddError($"{name}: '{item}' {problem}");
                        break;
                    }
                }

                return items;
            },
        };

    /// <summary>Headscale's tag rule: starts with <c>tag:</c>, lower case, no spaces.</summary>
    public static string? CheckTag(string tag)
    {
        if (!tag.StartsWith("tag:", StringComparison.Ordinal) || tag.Length == 4)
        {
            return "is not a tag: tags start with 'tag:' followed by a name";
        }

        if (tag.Any(char.IsWhiteSpace) || tag.Any(char.IsUpper))
        {
            return "is not a valid tag: tags are lower case without spaces";
        }

        return null;
    }

    /// <summary>An IP prefix in canonical form (<c>10.0.0.0/24</c>, <c>::/0</c>).</summary>
    public static string? CheckPrefix(string prefix)
    {
        if (!prefix.Contains('/', StringComparison.Ordinal))
        {
            return "is not an IP prefix such as 10.0.0.0/24";
        }

        var parts = prefix.Split('/', 2);
        if (!IPAddress.TryParse(parts[0], out var address) || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            return "is not an IP prefix such as 10.0.0.0/24";
        }

        if (!IPNetwork.TryParse(prefix, out var network))
        {
            return "is not a valid IP prefix: the prefix length is out of range";
        }

        return network.BaseAddress.Equals(address)
            ? null
            : $"has address bits set past the prefix length; did you mean {network}?";
    }

    /// <summary>A non-empty text value; whitespace alone is refused.</summary>
    public static Option<string> Text(string name, string[] aliases, string description, bool required = true)
    {
        var option = new Option<string>(name, aliases) { Description = description, Required = required };
        option.Validators.Add(result =>
        {
            if (string.IsNullOrWhiteSpace(result.GetValueOrDefault<string>()))
            {
                result.AddError($"{name}: must not be empty");
            }
        });
        return option;
    }

    /// <summary>
    /// A required positional text argument added to <paramref name="command"/>; missing or blank, the
    /// error names it (the parser's own message names only the command).
    /// </summary>
    public static Argument<string> RequiredArgument(Command command, string name, string description)
    {
        var argument = new Argument<string>(name) { Description = description, Arity = ArgumentArity.ZeroOrOne };
        command.Arguments.Add(argument);
        command.Validators.Add(result =>
        {
            if (result.GetResult(argument) is null || result.GetValue(argument) is null)
            {
                result.AddError($"{name.ToUpperInvariant()}: missing argument ({description})");
            }
            else if (string.IsNullOrWhiteSpace(result.GetValue(argument)))
            {
                result.AddError($"{name.ToUpperInvariant()}: must not be empty");
            }
        });
        return argument;
    }

    /// <summary>
    /// Adds <paramref name="user"/> to <paramref name="command"/> together with Headscale's deprecated,
    /// hidden spelling <c>--namespace</c>/<c>-n</c>, which parses and validates the same way. When
    /// <paramref name="user"/> was required, one of the two is; giving both is an error. For a
    /// recursive option, call <see cref="UserOption{T}.CheckOn"/> for each subcommand too: only the
    /// invoked command's validators run.
    /// </summary>
    public static UserOption<T> AddUserWithNamespace<T>(Command command, Option<T> user)
    {
        var deprecated = new Option<T>("--namespace", "-n")
        {
            Description = "Deprecated name of --user",
            Hidden = true,
            Recursive = user.Recursive,
            CustomParser = user.CustomParser,
        };
        foreach (var validator in user.Validators)
        {
            deprecated.Validators.Add(validator);
        }

        var option = new UserOption<T>(user, deprecated, user.Required);
        user.Required = false;
        command.Options.Add(user);
        command.Options.Add(deprecated);
        option.CheckOn(command);
        return option;
    }

    private static string LastToken(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
}

/// <summary><c>--user</c> and its deprecated spelling <c>--namespace</c>; whichever was given.</summary>
/// <param name="Required">Whether one of the two must be given.</param>
public sealed record UserOption<T>(Option<T> User, Option<T> Namespace, bool Required)
{
    public T? GetValue(ParseResult parse) =>
        parse.GetResult(User) is null && parse.GetResult(Namespace) is not null ? parse.GetValue(Namespace) : parse.GetValue(User);

    /// <summary>Refuses both spellings at once and, when required, neither, whenever <paramref name="command"/> is invoked.</summary>
    public void CheckOn(Command command) =>
        command.Validators.Add(result =>
        {
            var hasUser = result.GetResult(User) is not null;
            var hasNamespace = result.GetResult(Namespace) is not null;
            if (hasUser && hasNamespace)
            {
                result.AddError("--user and --namespace: give only one of them (--namespace is the deprecated name of --user)");
            }
            else if (Required && !hasUser && !hasNamespace)
            {
                result.AddError("Option '--user' is required.");
            }
        });
}
