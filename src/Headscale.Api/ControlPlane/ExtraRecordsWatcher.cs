using System.Collections.Immutable;
using Headscale.Api.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Headscale.Api.ControlPlane;

/// <summary>
/// Keeps the extra DNS records of <c>dns.extra_records_path</c> current while the server runs, as
/// Headscale does: the file's directory is watched (editors and config managers often replace the
/// file by a rename), changes are read after a short quiet period, and a file that does not parse
/// is logged and ignored so the last good records stay in force. <see cref="Changed"/> fires only
/// when the records really differ.
/// </summary>
public sealed class ExtraRecordsWatcher : IHostedService, IDisposable
{
    /// <summary>Writers often truncate then write; reading once the events stop avoids half a file.</summary>
    public static readonly TimeSpan QuietPeriod = TimeSpan.FromMilliseconds(250);

    private readonly string _path;
    private readonly ILogger<ExtraRecordsWatcher> _log;
    private readonly Timer _debounce;
    private readonly Lock _gate = new();
    private FileSystemWatcher? _watcher;

    public ExtraRecordsWatcher(HeadscaleConfig config, ILogger<ExtraRecordsWatcher> log)
    {
        _path = Path.GetFullPath(config.Dns.ExtraRecordsPath ?? throw new ArgumentException("dns.extra_records_path is not set", nameof(config)));
        _log = log;
        Current = config.Dns.ExtraRecords;
        _debounce = new Timer(_ => Reload(), null, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>The records in force.</summary>
    public ImmutableArray<DnsExtraRecord> Current { get; private set; }

    /// <summary>Raised after <see cref="Current"/> was replaced by different records.</summary>
    public event Action? Changed;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var watcher = new FileSystemWatcher(Path.GetDirectoryName(_path)!, Path.GetFileName(_path))
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        watcher.Changed += OnEvent;
        watcher.Created += OnEvent;
        watcher.Renamed += OnEvent;
        watcher.Error += (_, e) => _log.LogWarning(e.GetException(), "watching {Path} failed; extra records stay as they are until the next change is seen", _path);
        watcher.EnableRaisingEvents = true;
        _watcher = watcher;
        // A change between reading the config and starting to watch would otherwise be missed.
        Reload();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _watcher?.Dispose();
        _watcher = null;
        _debounce.Change(Timeout.Infinite, Timeout.Infinite);
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _debounce.Dispose();
    }

    private void OnEvent(object sender, FileSystemEventArgs e) => _debounce.Change(QuietPeriod, Timeout.InfiniteTimeSpan);

    private void Reload()
    {
        byte[] json;
        try
        {
            json = File.ReadAllBytes(_path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.LogError("dns.extra_records_path: cannot read {Path} ({Reason}); keeping the {Count} records in force", _path, e.Message, Current.Length);
            return;
        }

        if (!ExtraRecordsJson.TryParse(json, out var records, out var error))
        {
            _log.LogError("dns.extra_records_path: {Path}: {Error}; keeping the {Count} records in force", _path, error, Current.Length);
            return;
        }

        lock (_gate)
        {
            if (records.SequenceEqual(Current))
            {
                return;
            }

            Current = records;
        }

        _log.LogInformation("dns.extra_records_path: loaded {Count} extra records from {Path}", records.Length, _path);
        Changed?.Invoke();
    }
}
