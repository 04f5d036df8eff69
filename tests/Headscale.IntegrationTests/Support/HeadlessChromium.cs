using System.Diagnostics;

namespace Headscale.IntegrationTests.Support;

/// <summary>
/// Debian's Chromium in headless mode: loads a page, lets its scripts run (virtual time, so no waiting
/// on the wall clock), and returns the DOM as the browser built it. test.sh installs it.
/// </summary>
public static class HeadlessChromium
{
    private static readonly string[] Candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

    public static string Executable =>
        Candidates.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("the browser tests need Chromium (Debian: apt-get install -y chromium)");

    /// <summary>The rendered DOM of <paramref name="url"/> after its scripts ran for up to <paramref name="scriptBudget"/> of virtual time.</summary>
    public static async Task<string> DumpDomAsync(Uri url, TimeSpan scriptBudget, CancellationToken cancellationToken)
    {
        var profile = Path.Combine(Path.GetTempPath(), "hs-chromium-" + Guid.NewGuid().ToString("N")[..12]);
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--user-data-dir=" + profile,
            $"--virtual-time-budget={(int)scriptBudget.TotalMilliseconds}",
            "--dump-dom", url.ToString(),
        })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"chromium did not finish loading {url} within 90 s");
        }
        finally
        {
            try
            {
                Directory.Delete(profile, recursive: true);
            }
            catch (IOException)
            {
                // Chromium may still hold a lock file for a moment; the temp directory is cleaned by the OS.
            }
        }

        var dom = await stdout;
        return process.ExitCode == 0 && dom.Length > 0
            ? dom
            : throw new InvalidOperationException($"chromium exited with {process.ExitCode} for {url}: {await stderr}");
    }
}
