using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Headscale.Api.Configuration;
using Headscale.Management.V1;

namespace Headscale.Api.Cli.Management;

/// <summary><c>headscale audit list</c>: the audit log, filtered by time, kind, actor and subject, paged.</summary>
public static class AuditCommands
{
    public const uint MaxPageSize = 1000;

    public static Command Create(TimeProvider clock)
    {
        var group = new Command("audit", "Read the audit log of admin actions and authentication events");
        group.Subcommands.Add(List(clock));
        return group;
    }

    private static Command List(TimeProvider clock)
    {
        var since = new Option<TimeSpan?>("--since")
        {
            Description = "Only entries newer than this (e.g. 30m, 24h, 7d)",
            CustomParser = result =>
            {
                var text = result.Tokens[^1].Value;
                if (GoDuration.TryParse(text, out var value) && value > TimeSpan.Zero)
                {
                    return value;
                }

                result.AddError($"--since: '{text}' is not a positive duration such as 30m, 24h or 7d");
                return null;
            },
        };
        var from = Time("--from", "Only entries at or after this time (RFC 3339, e.g. 2026-11-25T09:00:00Z)");
        var to = Time("--to", "Only entries at or before this time (RFC 3339)");
        var kind = CliOptions.Text("--kind", ["-k"], "Only kinds starting with this (e.g. node. or apikey.created)", required: false);
        var actor = CliOptions.Text("--actor", ["-a"], "Only actors starting with this (e.g. Cli or Api:abcdefg)", required: false);
        var subject = CliOptions.Text("--subject", ["-s"], "Only this subject (e.g. node:12)", required: false);
        var pageSize = new Option<uint>("--page-size", "-n")
        {
            Description = $"Entries per page (1 to {MaxPageSize}; default 100)",
            DefaultValueFactory = _ => 100,
            CustomParser = result =>
            {
                var text = result.Tokens[^1].Value;
                if (uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is > 0 and <= MaxPageSize)
                {
                    return n;
                }

                result.AddError($"--page-size: '{text}' is not a number from 1 to {MaxPageSize}");
                return 0;
            },
        };
        var pageToken = CliOptions.Text("--page-token", [], "Continue after a previous page (its next page token)", required: false);

        var command = new Command("list", "List audit entries, oldest first") { Aliases = { "ls", "show" } };
        foreach (var option in new System.CommandLine.Option[] { since, from, to, kind, actor, subject, pageSize, pageToken })
        {
            command.Options.Add(option);
        }

        command.Validators.Add(result =>
        {
            if (result.GetResult(since) is not null && result.GetResult(from) is not null)
            {
                result.AddError("--since and --from cannot be used together");
            }
        });
        command.SetAction((parse, ct) => ManagementCall.RunAsync(parse, async (client, output, token) =>
        {
            var request = new ListAuditEventsRequest
            {
                Kind = parse.GetValue(kind)?.Trim() ?? "",
                Actor = parse.GetValue(actor)?.Trim() ?? "",
                Subject = parse.GetValue(subject)?.Trim() ?? "",
                PageSize = parse.GetValue(pageSize),
                PageToken = parse.GetValue(pageToken)?.Trim() ?? "",
            };
            if (parse.GetValue(since) is { } window)
            {
                request.From = Timestamp.FromDateTimeOffset(clock.GetUtcNow() - window);
            }
            else if (parse.GetValue(from) is { } start)
            {
                request.From = Timestamp.FromDateTimeOffset(start);
            }

            if (parse.GetValue(to) is { } end)
            {
                request.To = Timestamp.FromDateTimeOffset(end);
            }

            var response = await client.ListAuditEventsAsync(request, cancellationToken: token);
            return ProtoOutput.Write(output, response, () => Human(response));
        }, ct));
        return command;
    }

    private static string Human(ListAuditEventsResponse response)
    {
        var table = new TextTable("ID", "Time", "Kind", "Actor", "Subject", "Outcome", "Via", "Detail");
        foreach (var e in response.Events)
        {
            table.Add(e.Id.ToString(CultureInfo.InvariantCulture), ProtoOutput.Time(e.Time), e.Kind, e.Actor, e.Subject, e.Outcome, e.Via, e.Detail);
        }

        return response.NextPageToken.Length > 0
            ? table + $"\nMore entries: --page-token {response.NextPageToken}"
            : table.ToString();
    }

    private static Option<DateTimeOffset?> Time(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = result =>
        {
            var text = result.Tokens[^1].Value;
            if (DateTimeOffset.TryParseExact(text, ["yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var value))
            {
                return value;
            }

            result.AddError($"{name}: '{text}' is not an RFC 3339 time such as 2026-11-25T09:00:00Z");
            return null;
        },
    };
}
