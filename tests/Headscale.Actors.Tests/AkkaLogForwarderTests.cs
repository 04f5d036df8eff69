using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Event;
using Akka.Hosting;
using Headscale.Actors.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Headscale.Actors.Tests;

public sealed class AkkaLogForwarderTests
{
    [Fact]
    public async Task Akka_events_reach_the_host_logger_once_by_class_with_their_level_and_no_akka_prefix()
    {
        var sink = new CapturingLoggerProvider();
        using var host = new HostBuilder()
            .ConfigureLogging(logging => logging.ClearProviders().AddProvider(sink).SetMinimumLevel(LogLevel.Debug))
            .ConfigureServices(services => services.AddAkka("log-forwarder-test", builder => builder
                .ConfigureLoggers(loggers =>
                {
                    loggers.ClearLoggers();
                    loggers.AddLogger<AkkaLogForwarder>();
                })))
            .Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        var system = host.Services.GetRequiredService<ActorSystem>();

        var logger = Logging.GetLogger(system, typeof(AkkaLogForwarderTests));
        logger.Error(new InvalidOperationException("boom"), "node {NodeId} failed", 42);
        logger.Info("braces {in} a template with no arguments stay as they are");

        var error = await sink.AwaitAsync(e => e.Text.Contains("node 42 failed", StringComparison.Ordinal));
        Assert.Equal(typeof(AkkaLogForwarderTests).FullName, error.Category);
        Assert.Equal(LogLevel.Error, error.Level);
        Assert.IsType<InvalidOperationException>(error.Exception);
        Assert.DoesNotContain("[ERROR]", error.Text);
        Assert.DoesNotContain("Thread", error.Text);

        var info = await sink.AwaitAsync(e => e.Text.Contains("braces", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Information, info.Level);
        Assert.Contains("{in}", info.Text);

        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    private sealed record Entry(string Category, LogLevel Level, string Text, Exception? Exception);

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        private readonly ConcurrentQueue<Entry> _entries = new();
        private readonly SemaphoreSlim _written = new(0);

        public ILogger CreateLogger(string categoryName) => new Capture(this, categoryName);

        public async Task<Entry> AwaitAsync(Func<Entry, bool> match)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(30));
            while (true)
            {
                if (_entries.FirstOrDefault(match) is { } found)
                {
                    return found;
                }

                await _written.WaitAsync(deadline.Token);
            }
        }

        public void Dispose() => _written.Dispose();

        private sealed class Capture(CapturingLoggerProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                owner._entries.Enqueue(new Entry(category, logLevel, formatter(state, exception), exception));
                owner._written.Release();
            }
        }
    }
}
