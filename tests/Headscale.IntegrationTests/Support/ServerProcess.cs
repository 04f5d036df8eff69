using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Headscale.IntegrationTests.Support;

/// <summary>
/// The real <c>headscale</c> executable (built beside the tests) started as a child process with a
/// config file of the test's making. Stopped with SIGTERM, as a service manager would.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServerProcess(Process process, int port, int metricsPort)
    {
        _process = process;
        Port = port;
        MetricsPort = metricsPort;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(15) };
    }

    public int Port { get; }

    public int MetricsPort { get; }

    public HttpClient Http { get; }

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

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public static string ExecutablePath => Path.Combine(AppContext.BaseDirectory, "headscale.dll");

    /// <summary>Starts <c>headscale serve -c configPath</c> and waits until /health answers (pass or fail).</summary>
    public static async Task<ServerProcess> StartAsync(TestServerConfig config, CancellationToken cancellationToken)
    {
        var path = config.Write();
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { ExecutablePath, "serve", "-c", path },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = config.Directory,
        };
        // The test's own environment must not leak HEADSCALE_* overrides into the server.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("HEADSCALE_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        var process = Process.Start(start)!;
        var server = new ServerProcess(process, config.Port, config.MetricsPort);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await server.WaitUntilAnsweringAsync(cancellationToken);
        return server;
    }

    /// <summary>Sends SIGHUP (reload the policy file), as an operator's <c>kill -HUP</c> does.</summary>
    public void SendHangup()
    {
        if (Kill(_process.Id, SigHup) != 0)
        {
            throw new InvalidOperationException($"kill -HUP {_process.Id} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Sends SIGTERM and waits for a clean exit.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, SigTerm);
            using var cts = new CancellationTokenSource(timeout);
            await _process.WaitForExitAsync(cts.Token);
        }

        return _process.ExitCode;
    }

    /// <summary>Ends the process at once (SIGKILL), as a crash or the OOM killer would: no leave, no shutdown.</summary>
    public async Task KillAsync(TimeSpan timeout)
    {
        _process.Kill();
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            try
            {
                await StopAsync(TimeSpan.FromSeconds(30));
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
    }

    private async Task WaitUntilAnsweringAsync(CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(90));
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"headscale exited with {_process.ExitCode} before answering:\n{Output}");
            }

            try
            {
                using var response = await Http.GetAsync("/health", cts.Token);
                return;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100, cts.Token);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                throw new TimeoutException($"headscale did not answer within 90 s:\n{Output}");
            }
        }
    }

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

    private const int SigHup = 1;
    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
