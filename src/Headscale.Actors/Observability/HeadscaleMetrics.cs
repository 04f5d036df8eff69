using System.Diagnostics.Metrics;

namespace Headscale.Actors.Observability;

/// <summary>
/// The domain's instruments on the <c>Headscale</c> <see cref="Meter"/>. Names are already the
/// Prometheus base names; the host's exporter adds <c>_total</c> to counters and turns the tags into
/// labels. Every instrument keeps one fixed set of tag keys (the exporter's label names).
/// Tag values must come from small closed sets: never a node id, key or address.
/// </summary>
public static class HeadscaleMetrics
{
    public const string MeterName = "Headscale";

    /// <summary>Map response kinds (the <c>type</c> label).</summary>
    public static class MapResponseKind
    {
        public const string Full = "full";
        public const string Delta = "delta";
        public const string KeepAlive = "keepalive";
    }

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Open <c>/machine/map</c> streams on this host.</summary>
    public static readonly UpDownCounter<long> MapSessions =
        Meter.CreateUpDownCounter<long>("headscale_mapsessions", description: "Live map sessions (long-poll streams) on this host.");

    /// <summary>Tags: <c>type</c> (<see cref="MapResponseKind"/>), <c>status</c> (ok, dropped).</summary>
    public static readonly Counter<long> MapResponsesSent =
        Meter.CreateCounter<long>("headscale_mapresponse_sent", description: "Map responses written to client streams, by type and status.");

    /// <summary>Tags: <c>type</c>. Bytes of the framed (possibly compressed) responses.</summary>
    public static readonly Counter<long> MapResponseBytes =
        Meter.CreateCounter<long>("headscale_mapresponse_sent_bytes", "By", "Bytes of framed map responses written to client streams, by type.");

    /// <summary>Tags: <c>method</c> (preauthkey, interactive, api, …), <c>result</c> (ok, denied, error, …).</summary>
    public static readonly Counter<long> Registrations =
        Meter.CreateCounter<long>("headscale_registrations", description: "Node registration attempts by method and result.");

    public static readonly Histogram<double> PolicyCompileDuration =
        Meter.CreateHistogram<double>("headscale_policy_compile_duration_seconds", "s", "Time to compile the policy over the current nodes.");

    public static readonly Histogram<double> NetworkMapApplyDuration =
        Meter.CreateHistogram<double>("headscale_networkmap_apply_duration_seconds", "s", "Time for the network map to apply one change and fan it out.");

    /// <summary>One batch of journal writes, from handing it to the database until it answered (<see cref="MeasuredSqlWriteJournal"/>).</summary>
    public static readonly Histogram<double> JournalWriteDuration =
        Meter.CreateHistogram<double>("headscale_journal_write_duration_seconds", "s", "Time for the database to store one batch of journal writes.");

    /// <summary>Tags: <c>reason</c> (<see cref="JournalWriteMetrics.Failed"/>, <see cref="JournalWriteMetrics.Rejected"/>). Counts atomic writes: one per Persist, one per PersistAll.</summary>
    public static readonly Counter<long> JournalWriteFailures =
        Meter.CreateCounter<long>("headscale_journal_write_failures", description: "Journal writes (one per Persist or PersistAll call) that failed or were rejected, by reason.");

    public static void RecordMapResponse(string kind, int bytes, bool delivered)
    {
        MapResponsesSent.Add(1, new KeyValuePair<string, object?>("status", delivered ? "ok" : "dropped"), new KeyValuePair<string, object?>("type", kind));
        if (delivered)
        {
            MapResponseBytes.Add(bytes, new KeyValuePair<string, object?>("type", kind));
        }
    }

    public static void RecordRegistration(string method, string result) =>
        Registrations.Add(1, new KeyValuePair<string, object?>("method", method), new KeyValuePair<string, object?>("result", result));
}
