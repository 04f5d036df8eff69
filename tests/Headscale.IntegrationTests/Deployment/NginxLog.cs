namespace Headscale.IntegrationTests.Deployment;

/// <summary>Reads nginx's log files, which nginx writes on its own schedule (an upgraded connection only when it closes).</summary>
public static class NginxLog
{
    /// <summary>Waits until <paramref name="path"/> holds a line containing <paramref name="expected"/>; returns the whole log.</summary>
    public static Task<string> WaitForLineAsync(string path, string expected, CancellationToken cancellationToken) =>
        WaitForLinesAsync(path, expected, line => line.Contains(expected, StringComparison.Ordinal), 1, cancellationToken);

    /// <summary>Waits until <paramref name="path"/> holds at least <paramref name="count"/> lines that match; returns them.</summary>
    public static async Task<string> WaitForLinesAsync(
        string path, string description, Func<string, bool> matches, int count, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(10));
        while (true)
        {
            var text = File.Exists(path) ? await File.ReadAllTextAsync(path, cts.Token) : "";
            if (text.Split('\n').Count(matches) >= count)
            {
                return text;
            }

            try
            {
                await Task.Delay(20, cts.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                Assert.Fail($"{count} line(s) with {description} never reached {path}; the log holds:\n{text}");
            }
        }
    }
}
