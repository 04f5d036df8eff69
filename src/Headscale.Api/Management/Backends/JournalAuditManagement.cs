using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Headscale.Actors.Auditing;
using Headscale.Management.V1;

namespace Headscale.Api.Management.Backends;

/// <summary>
/// ListAuditEvents over the journal's audit log. The page token is the id (journal offset) of the
/// last entry of the previous page, in decimal.
/// </summary>
public sealed class JournalAuditManagement(IAuditLog log) : IAuditManagement
{
    public const int DefaultPageSize = 100;

    public async Task<ManagementResult<ListAuditEventsResponse>> ListAuditEventsAsync(ListAuditEventsRequest request, CancellationToken cancellationToken)
    {
        if (ToQuery(request) is not { } query)
        {
            return Validate(request)!;
        }

        var page = await log.ReadAsync(query, cancellationToken);
        var response = new ListAuditEventsResponse
        {
            NextPageToken = page.NextOffset?.ToString(CultureInfo.InvariantCulture) ?? "",
        };
        foreach (var entry in page.Entries)
        {
            response.Events.Add(new AuditEvent
            {
                Id = (ulong)entry.Offset,
                Time = Timestamp.FromDateTimeOffset(entry.At),
                Kind = entry.Kind,
                Actor = entry.Actor,
                Subject = entry.Subject,
                Detail = entry.Detail,
                Outcome = entry.Outcome,
                Via = entry.Via,
            });
        }

        return response;
    }

    /// <summary>The first thing wrong with the request's filters, or null.</summary>
    public static ManagementError? Validate(ListAuditEventsRequest request)
    {
        if (request.PageSize > AuditQuery.MaxLimit)
        {
            return ManagementError.InvalidArgument($"page_size: {request.PageSize} is more than {AuditQuery.MaxLimit}");
        }

        if (request.PageToken.Length > 0 && !long.TryParse(request.PageToken, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            return ManagementError.InvalidArgument($"page_token: '{request.PageToken}' is not a token from a previous page");
        }

        if (request.From is not null && request.To is not null && request.From.ToDateTimeOffset() > request.To.ToDateTimeOffset())
        {
            return ManagementError.InvalidArgument("from: must not be after to");
        }

        return null;
    }

    private static AuditQuery? ToQuery(ListAuditEventsRequest request)
    {
        if (Validate(request) is not null)
        {
            return null;
        }

        return new AuditQuery
        {
            From = request.From?.ToDateTimeOffset(),
            To = request.To?.ToDateTimeOffset(),
            Kind = Filter(request.Kind),
            Actor = Filter(request.Actor),
            Subject = Filter(request.Subject),
            AfterOffset = request.PageToken.Length > 0 ? long.Parse(request.PageToken, CultureInfo.InvariantCulture) : 0,
            Limit = request.PageSize == 0 ? DefaultPageSize : (int)request.PageSize,
        };
    }

    private static string? Filter(string value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
