using System.Net.Http;
using Headscale.Derp.Server;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Headscale.Derp.Map;

/// <summary>
/// Holds the merged DERP map. Loads every source at start (startup fails if the result has no regions), then refetches
/// every <see cref="DerpMapOptions.UpdateFrequency"/>. A source that fails keeps its last good map.
/// Subscribers of <see cref="Changed"/> push a DERP-only MapResponse to clients.
/// </summary>
public sealed class DerpMapProvider : BackgroundService
{
    public const string HttpClientName = "Headscale.Derp.Map";
    private readonly DerpMapOptions _options;
    private readonly IHttpClientFactory? _httpClientFactory;
    private readonly ILogger _logger;
    private readonly Dictionary<string, DerpMap> _lastGood = [];
    private readonly DerpRegion? _embedded;
    private byte[] _currentJson = [];

    public DerpMapProvider(DerpMapOptions options, IHttpClientFactory? httpClientFactory = null, ILogger<DerpMapProvider>? logger = null)
    {
        _options = options;
        _httpClientFactory = httpClientFactory;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _embedded = options.EmbeddedRegion is { AutomaticallyAddEmbeddedRegion: true } embedded
            ? DerpMapLoader.BuildEmbeddedRegion(embedded)
            : null;
        Current = new DerpMap { Regions = [] };
    }

    /// <summary>The merged map; replaced (never mutated) on change.</summary>
    public DerpMap Current { get; private set; }

    /// <summary>Raised after <see cref="Current"/> changed.</summary>
    public event Action<DerpMap>? Changed;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await RefreshAsync(cancellationToken);
        if (Current.Regions is not { Count: > 0 })
            throw new DerpMapException("The DERP map has no regions: configure derp.urls, derp.paths or the embedded DERP server.");
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.AutoUpdateEnabled) return;
        using var timer = new PeriodicTimer(_options.UpdateFrequency);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) await RefreshAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Reloads every source and publishes the merged map if it differs.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var maps = new List<DerpMap>();
        foreach (var url in _options.Urls)
            if (await TryLoadAsync(url, () => FetchAsync(url, cancellationToken)) is { } map) maps.Add(map);
        foreach (var path in _options.Paths)
            if (await TryLoadAsync(path, () => DerpMapLoader.LoadFileAsync(path, cancellationToken)) is { } map) maps.Add(map);

        var merged = DerpMapLoader.Merge(maps, _embedded, _options.ShuffleSeed);
        var json = DerpMapLoader.ToJson(merged);
        if (json.AsSpan().SequenceEqual(_currentJson)) return;
        _currentJson = json;
        Current = merged;
        DerpLog.MapUpdated(_logger, merged.Regions!.Count);
        Changed?.Invoke(merged);
    }

    private async Task<DerpMap?> TryLoadAsync(string source, Func<Task<DerpMap>> load)
    {
        try
        {
            var map = await load();
            _lastGood[source] = map;
            return map;
        }
        catch (Exception e) when (e is DerpMapException or HttpRequestException or TaskCanceledException or IOException)
        {
            DerpLog.MapSourceFailed(_logger, source, e.Message);
            return _lastGood.GetValueOrDefault(source);
        }
    }

    private async Task<DerpMap> FetchAsync(string url, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.FetchTimeout);
        using var client = _httpClientFactory?.CreateClient(HttpClientName) ?? new HttpClient();
        using var response = await client.GetAsync(url, timeout.Token);
        if (!response.IsSuccessStatusCode)
            throw new DerpMapException($"DERP map {url} answered HTTP {(int)response.StatusCode}.");
        var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
        return DerpMapLoader.ParseJson(body, url);
    }
}
