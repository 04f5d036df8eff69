using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Headscale.Api.Tests.ControlProtocol;

public sealed record CapturedLog(string Category, LogLevel Level, EventId EventId, string Message);

/// <summary>Keeps every log entry so tests can check what was logged, how often and at which level.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<CapturedLog> Entries { get; } = new();

    public IReadOnlyList<CapturedLog> WithEvent(int eventId) => Entries.Where(e => e.EventId.Id == eventId).ToList();

    /// <summary>Waits until an entry with <paramref name="eventId"/> appears (logging may trail the socket close).</summary>
    public async Task<CapturedLog> WaitForAsync(int eventId)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        while (true)
        {
            var found = Entries.FirstOrDefault(e => e.EventId.Id == eventId);
            if (found is not null)
            {
                return found;
            }

            if (timeout.IsCancellationRequested)
            {
                Assert.Fail($"no log entry with event id {eventId}; got: {string.Join(" | ", Entries.Select(e => e.Message))}");
            }

            await Task.Delay(20, CancellationToken.None);
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue(new CapturedLog(category, logLevel, eventId, formatter(state, exception)));
    }
}
