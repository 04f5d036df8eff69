using System.Text;

namespace Headscale.IntegrationTests.Support;

/// <summary>A config.yaml for one test server, in its own temporary directory, on free ports.</summary>
public sealed class TestServerConfig : IDisposable
{
    public TestServerConfig()
    {
        Directory = Path.Combine(Path.GetTempPath(), "hs-test-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(Directory);
        Port = TestPorts.GetFree();
        MetricsPort = TestPorts.GetFree();
        GrpcPort = TestPorts.GetFree();
    }

    public string Directory { get; }

    public int Port { get; }

    public int MetricsPort { get; }

    /// <summary>The port of <c>grpc_listen_addr</c> (bound only with TLS or <c>grpc_allow_insecure</c>).</summary>
    public int GrpcPort { get; }

    /// <summary>The local CLI's socket (unix_socket's default under the working directory).</summary>
    public string SocketPath => Path.Combine(Directory, "data", "headscale.sock");

    /// <summary>null: metrics_listen_addr is left out of the file (its default applies).</summary>
    public string? MetricsListenAddress { get; set; } = "";

    /// <summary>Extra YAML appended to the generated file (e.g. a database section).</summary>
    public string Extra { get; set; } = "";

    public string ConfigPath => Path.Combine(Directory, "config.yaml");

    public string NoiseKeyPath => Path.Combine(Directory, "noise_private.key");

    public TestServerConfig UsePostgres(PostgresServer server, string database)
    {
        Extra += $"""
            database:
              type: postgres
              postgres:
                host: {server.Host}
                port: {server.Port}
                name: {database}
                user: {PostgresServer.User}

            """;
        return this;
    }

    public string Write()
    {
        var yaml = new StringBuilder();
        yaml.AppendLine($"server_url: http://127.0.0.1:{Port}");
        yaml.AppendLine($"listen_addr: 127.0.0.1:{Port}");
        if (MetricsListenAddress is not null)
        {
            yaml.AppendLine($"metrics_listen_addr: {(MetricsListenAddress.Length > 0 ? MetricsListenAddress : $"127.0.0.1:{MetricsPort}")}");
        }

        yaml.AppendLine($"grpc_listen_addr: 127.0.0.1:{GrpcPort}");
        yaml.AppendLine("noise:");
        yaml.AppendLine("  private_key_path: noise_private.key");
        yaml.AppendLine("log:");
        yaml.AppendLine("  level: info");
        yaml.Append(Extra);
        File.WriteAllText(ConfigPath, yaml.ToString());
        return ConfigPath;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
