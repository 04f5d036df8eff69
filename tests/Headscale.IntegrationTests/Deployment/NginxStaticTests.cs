using System.Text.RegularExpressions;
using Headscale.IntegrationTests.Support;

namespace Headscale.IntegrationTests.Deployment;

/// <summary><c>nginx -t</c> on both configs, and properties read straight from the files.</summary>
public sealed partial class NginxStaticTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Production_config_passes_nginx_t()
    {
        using var certificate = await NginxCertificate.CreateAsync(Ct);
        using var site = NginxSite.Production(TestPorts.GetFree(), TestPorts.GetFree(), certificate);

        var (exitCode, output) = await NginxProcess.TestConfigurationAsync(site, Ct);

        Assert.True(exitCode == 0, output);
        Assert.Contains("test is successful", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Development_config_passes_nginx_t()
    {
        using var site = NginxSite.Development(TestPorts.GetFree(), TestPorts.GetFree());

        var (exitCode, output) = await NginxProcess.TestConfigurationAsync(site, Ct);

        Assert.True(exitCode == 0, output);
        Assert.Contains("test is successful", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_broken_config_fails_nginx_t()
    {
        using var site = NginxSite.Development(TestPorts.GetFree(), TestPorts.GetFree());
        var path = Path.Combine(site.Prefix, site.ConfigFile);
        await File.WriteAllTextAsync(path, (await File.ReadAllTextAsync(path, Ct)).Replace("proxy_pass http://headscale;", "proxy_pass http://no-such-upstream-name.invalid;", StringComparison.Ordinal), Ct);

        var (exitCode, output) = await NginxProcess.TestConfigurationAsync(site, Ct);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("no-such-upstream-name.invalid", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Upstreams_name_only_the_http_api_and_headplane_never_the_metrics_port()
    {
        var upstreams = RepositoryFiles.Read("nginx", "upstreams.conf");

        Assert.Equal(["headscale:8080", "headplane:3000"], ServerLine().Matches(upstreams).Select(m => m.Groups[1].Value));
        foreach (var file in Directory.GetFiles(RepositoryFiles.PathOf("nginx"), "*.conf"))
        {
            var text = Comment().Replace(File.ReadAllText(file), "");
            Assert.DoesNotContain(":9090", text, StringComparison.Ordinal);
            // Open streams are never throttled by bytes; only new requests are counted.
            Assert.DoesNotContain("limit_rate", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Logs_are_written_under_logs_nginx_relative_to_the_prefix()
    {
        foreach (var name in new[] { "nginx.conf", "nginx.dev.conf", "http-common.conf" })
        {
            foreach (Match log in LogDirective().Matches(RepositoryFiles.Read("nginx", name)))
            {
                Assert.True(log.Groups[2].Value is "off" || log.Groups[2].Value.StartsWith("logs/nginx/", StringComparison.Ordinal), $"{name}: {log.Value}");
            }
        }
    }

    [Fact]
    public void Development_config_has_no_rate_limits_and_no_tls()
    {
        var dev = RepositoryFiles.Read("nginx", "nginx.dev.conf") + RepositoryFiles.Read("nginx", "http-common.conf");

        Assert.DoesNotContain("limit_req", dev, StringComparison.Ordinal);
        Assert.DoesNotContain("ssl", dev, StringComparison.Ordinal);
    }

    [Fact]
    public void Stream_locations_outlast_the_longest_silence_the_server_allows_on_an_open_stream()
    {
        // nginx closes an upgraded connection after proxy_read_timeout without a byte from the server (60 s by
        // default). The server's idle traffic: DERP keep-alives every KeepAliveInterval plus up to 5 s of jitter
        // (60-65 s, longer than nginx's default), map keep-alives at most every 110 s (the upper bound of
        // tuning.map_keepalive_interval).
        var derp = new Headscale.Derp.Server.DerpServerOptions().KeepAliveInterval + TimeSpan.FromSeconds(5);
        var longestSilence = derp > TimeSpan.FromSeconds(110) ? derp : TimeSpan.FromSeconds(110);
        var streaming = Comment().Replace(RepositoryFiles.Read("nginx", "streaming.conf"), "");

        Assert.Contains("proxy_buffering off;", streaming, StringComparison.Ordinal);
        foreach (var directive in new[] { "proxy_read_timeout", "proxy_send_timeout" })
        {
            var value = Regex.Match(streaming, $@"^\s*{directive}\s+(\S+);", RegexOptions.Multiline);
            Assert.True(value.Success, $"streaming.conf sets no {directive}");
            Assert.True(NginxTime(value.Groups[1].Value) > 2 * longestSilence, $"{directive} {value.Groups[1].Value} must exceed twice {longestSilence}");
        }

        foreach (var name in new[] { "nginx.conf", "nginx.dev.conf" })
        {
            var config = RepositoryFiles.Read("nginx", name);
            foreach (var location in new[] { @"=\s*/ts2021", @"\^~\s*/derp" })
            {
                var block = Regex.Match(config, $@"location\s+{location}\s*\{{([^}}]*)\}}");
                Assert.True(block.Success, $"{name}: no location {location}");
                Assert.Contains("include streaming.conf;", block.Groups[1].Value, StringComparison.Ordinal);
            }
        }
    }

    /// <summary>An nginx time value ("90", "90s", "5m", "1h", "1d") as a TimeSpan.</summary>
    private static TimeSpan NginxTime(string value)
    {
        var match = Regex.Match(value, @"^(\d+)(ms|s|m|h|d)?$");
        Assert.True(match.Success, $"'{value}' is not an nginx time");
        var amount = long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch
        {
            "ms" => TimeSpan.FromMilliseconds(amount),
            "m" => TimeSpan.FromMinutes(amount),
            "h" => TimeSpan.FromHours(amount),
            "d" => TimeSpan.FromDays(amount),
            _ => TimeSpan.FromSeconds(amount),
        };
    }

    [GeneratedRegex(@"#.*$", RegexOptions.Multiline)]
    private static partial Regex Comment();

    [GeneratedRegex(@"^\s*server\s+(\S+?)(?:\s|;)", RegexOptions.Multiline)]
    private static partial Regex ServerLine();

    [GeneratedRegex(@"^\s*(access_log|error_log)\s+(\S+?)[;\s]", RegexOptions.Multiline)]
    private static partial Regex LogDirective();
}
