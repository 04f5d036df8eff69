using System.Text;
using System.Text.RegularExpressions;
using Headscale.IntegrationTests.Deployment;

namespace Headscale.IntegrationTests.Support;

/// <summary>
/// An nginx prefix directory holding the repository's <c>nginx/</c> files, changed only as the
/// deployment docs promise:
/// <list type="number">
/// <item><c>upstreams.conf</c> is replaced by one naming the same upstreams at loopback addresses;</item>
/// <item>the <c>listen</c> lines get free loopback ports;</item>
/// <item>(production) the certbot lineage directory and the ACME webroot move into temp directories.</item>
/// </list>
/// Each substitution must match the expected number of times, so a config that drifts from this
/// step fails loudly instead of being tested half-substituted. Logs land in <c>logs/nginx/</c> under
/// the prefix, exactly where the real config puts them.
/// </summary>
public sealed partial class NginxSite : IDisposable
{
    public const string ProductionConfig = "nginx.conf";
    public const string DevelopmentConfig = "nginx.dev.conf";

    private NginxSite(string prefix, string configFile, IReadOnlyList<int> ports)
    {
        Prefix = prefix;
        ConfigFile = configFile;
        Ports = ports;
    }

    /// <summary>The nginx prefix (-p): conf/, logs/nginx/, temp directories, pid file.</summary>
    public string Prefix { get; }

    /// <summary>conf/nginx.conf or conf/nginx.dev.conf, relative to the prefix (-c).</summary>
    public string ConfigFile { get; }

    /// <summary>Every port nginx listens on; the first is plain HTTP.</summary>
    public IReadOnlyList<int> Ports { get; }

    public int HttpPort => Ports[0];

    /// <summary>Production only: the TLS port.</summary>
    public int HttpsPort => Ports.Count > 1 ? Ports[1] : throw new InvalidOperationException("the development site has no TLS port");

    public string Webroot => Path.Combine(Prefix, "acme-webroot");

    public string AccessLogPath => Path.Combine(Prefix, "logs", "nginx", "access.log");

    public string ErrorLogPath => Path.Combine(Prefix, "logs", "nginx", "error.log");

    public string ConfigText => File.ReadAllText(Path.Combine(Prefix, ConfigFile));

    /// <summary>nginx.dev.conf with the upstreams and its one listen port substituted.</summary>
    public static NginxSite Development(int headscalePort, int headplanePort)
    {
        var port = TestPorts.GetFree();
        return Create(DevelopmentConfig, headscalePort, headplanePort, [port],
        [
            new("listen 8000;", $"listen 127.0.0.1:{port};", 1),
        ]);
    }

    /// <summary>nginx.conf with upstreams, both listen ports, the certificate lineage and the webroot substituted.</summary>
    public static NginxSite Production(int headscalePort, int headplanePort, NginxCertificate certificate)
    {
        var http = TestPorts.GetFree();
        var https = TestPorts.GetFree();
        return Create(ProductionConfig, headscalePort, headplanePort, [http, https],
        [
            new("listen 80;", $"listen 127.0.0.1:{http};", 1),
            new("listen 443 ssl;", $"listen 127.0.0.1:{https} ssl;", 1),
            new("/etc/letsencrypt/live/headscale/", certificate.Directory + "/", 2),
            new("/var/www/certbot", "{webroot}", 1),
        ]);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Prefix, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
            // Temp directories nginx created for its workers; the OS cleans /tmp.
        }
    }

    private sealed record Substitution(string Find, string Replace, int ExpectedCount);

    private static NginxSite Create(string configName, int headscalePort, int headplanePort, int[] ports, Substitution[] substitutions)
    {
        var source = RepositoryFiles.PathOf("nginx");
        var prefix = Path.Combine(Path.GetTempPath(), "hs-nginx-" + Guid.NewGuid().ToString("N")[..12]);
        var conf = Path.Combine(prefix, "conf");
        Directory.CreateDirectory(conf);
        Directory.CreateDirectory(Path.Combine(prefix, "logs", "nginx"));
        var site = new NginxSite(prefix, Path.Combine("conf", configName), ports);
        Directory.CreateDirectory(site.Webroot);

        foreach (var file in Directory.GetFiles(source, "*.conf"))
        {
            File.Copy(file, Path.Combine(conf, Path.GetFileName(file)));
        }

        File.WriteAllText(Path.Combine(conf, "upstreams.conf"), LoopbackUpstreams(File.ReadAllText(Path.Combine(source, "upstreams.conf")), headscalePort, headplanePort));

        var configPath = Path.Combine(conf, configName);
        var text = File.ReadAllText(configPath);
        foreach (var substitution in substitutions)
        {
            var found = Regex.Count(text, Regex.Escape(substitution.Find));
            if (found != substitution.ExpectedCount)
            {
                throw new InvalidOperationException(
                    $"nginx/{configName}: expected '{substitution.Find}' {substitution.ExpectedCount} time(s), found {found}; the test substitution step and the config disagree.");
            }

            text = text.Replace(substitution.Find, substitution.Replace.Replace("{webroot}", site.Webroot), StringComparison.Ordinal);
        }

        File.WriteAllText(configPath, text);
        return site;
    }

    /// <summary>The test's upstreams.conf: the same upstream names as the real file, at loopback ports.</summary>
    private static string LoopbackUpstreams(string realFile, int headscalePort, int headplanePort)
    {
        var names = UpstreamName().Matches(realFile).Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal).ToArray();
        if (!names.SequenceEqual(["headplane", "headscale"]))
        {
            throw new InvalidOperationException($"nginx/upstreams.conf defines [{string.Join(", ", names)}]; the tests know how to replace headscale and headplane only.");
        }

        return new StringBuilder()
            .AppendLine($"upstream headscale {{ server 127.0.0.1:{headscalePort}; keepalive 16; }}")
            .AppendLine($"upstream headplane {{ server 127.0.0.1:{headplanePort}; }}")
            .ToString();
    }

    [GeneratedRegex(@"^\s*upstream\s+(\S+)\s*\{", RegexOptions.Multiline)]
    private static partial Regex UpstreamName();
}
