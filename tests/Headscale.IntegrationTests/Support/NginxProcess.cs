using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Headscale.IntegrationTests.Support;

/// <summary>
/// The real nginx (Debian's package; test.sh installs it) run in the foreground on an
/// <see cref="NginxSite"/>: <c>nginx -p prefix -c conf/… -g 'daemon off; pid …;'</c>.
/// Stopped with SIGTERM; the prefix holds its pid, temp directories and logs.
/// </summary>
public sealed class NginxProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private NginxProcess(Process process, NginxSite site)
    {
        _process = process;
        Site = site;
    }

    public NginxSite Site { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static string ExecutablePath =>
        new[] { "/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx" }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("nginx not found: install it with 'apt-get install -y nginx' (test.sh does this).");

    /// <summary>Runs <c>nginx -t</c> on the site; returns the exit code and what nginx printed.</summary>
    public static async Task<(int ExitCode, string Output)> TestConfigurationAsync(NginxSite site, CancellationToken cancellationToken)
    {
        using var process = Process.Start(StartInfo(site, "-t")) ?? throw new InvalidOperationException("nginx did not start");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, await stderr + await stdout);
    }

    /// <summary>Starts nginx and waits until every listen port accepts connections.</summary>
    public static async Task<NginxProcess> StartAsync(NginxSite site, CancellationToken cancellationToken)
    {
        var process = Process.Start(StartInfo(site)) ?? throw new InvalidOperationException("nginx did not start");
        var nginx = new NginxProcess(process, site);
        process.OutputDataReceived += (_, e) => nginx.Append(e.Data);
        process.ErrorDataReceived += (_, e) => nginx.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await nginx.WaitUntilListeningAsync(cancellationToken);
        }
        catch
        {
            await nginx.DisposeAsync();
            throw;
        }

        return nginx;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, SigTerm);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
        Site.Dispose();
    }

    private static ProcessStartInfo StartInfo(NginxSite site, params string[] extra)
    {
        var start = new ProcessStartInfo(ExecutablePath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = site.Prefix,
        };
        foreach (var argument in extra)
        {
            start.ArgumentList.Add(argument);
        }

        start.ArgumentList.Add("-p");
        start.ArgumentList.Add(site.Prefix + "/");
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(site.ConfigFile);
        start.ArgumentList.Add("-g");
        start.ArgumentList.Add($"daemon off; pid {Path.Combine(site.Prefix, "nginx.pid")};");
        return start;
    }

    private async Task WaitUntilListeningAsync(CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(20));
        foreach (var port in Site.Ports)
        {
            while (true)
            {
                if (_process.HasExited)
                {
                    throw new InvalidOperationException($"nginx exited with {_process.ExitCode}:\n{Output}\n{ReadErrorLog()}");
                }

                try
                {
                    using var client = new TcpClient();
                    await client.ConnectAsync(IPAddress.Loopback, port, cts.Token);
                    break;
                }
                catch (SocketException)
                {
                    await Task.Delay(20, cts.Token);
                }
                catch (OperationCanceledException) when (cts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"nginx did not listen on {port} within 20 s:\n{Output}\n{ReadErrorLog()}");
                }
            }
        }
    }

    private string ReadErrorLog() => File.Exists(Site.ErrorLogPath) ? File.ReadAllText(Site.ErrorLogPath) : "";

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
