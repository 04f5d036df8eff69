using System.Collections.Concurrent;
using Akka.Actor;
using Akka.DependencyInjection;
using Akka.Dispatch;
using Akka.Event;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using AkkaLogLevel = Akka.Event.LogLevel;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Headscale.Actors.Observability;

/// <summary>
/// Akka's logger that writes to the host's <see cref="ILoggerFactory"/>, one line per event in the host's
/// format: the category is the logging class (so <c>Logging:LogLevel</c> filters apply per namespace), the
/// text is <c>[source] message</c>. The stock forwarder writes Akka's own prefix (level, time, thread) inside
/// the host's, and reports errors as warnings.
/// </summary>
public sealed class AkkaLogForwarder : ActorBase, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    private readonly ConcurrentDictionary<Type, ILogger> _loggers = new();
    private readonly ILoggerFactory _factory;

    public AkkaLogForwarder()
    {
        _factory = DependencyResolver.For(Context.System).Resolver.GetService<ILoggerFactory>()
            ?? throw new InvalidOperationException("no ILoggerFactory in the host's services");
    }

    protected override bool Receive(object message)
    {
        switch (message)
        {
            case InitializeLogger:
                Sender.Tell(new LoggerInitialized());
                return true;
            case LogEvent e:
                Write(e);
                return true;
            default:
                return false;
        }
    }

    private void Write(LogEvent e)
    {
        // Akka's own subsystems (remoting, cluster) log under a placeholder class; "Akka" reads better.
        var logClass = e.LogClass is null || e.LogClass == typeof(DummyClassForStringSources) ? typeof(ActorSystem) : e.LogClass;
        var logger = _loggers.GetOrAdd(logClass, t => _factory.CreateLogger(t == typeof(ActorSystem) ? "Akka" : t.FullName!));
        var level = ToLevel(e.LogLevel());
        if (!logger.IsEnabled(level))
        {
            return;
        }

        logger.Log(level, e.Cause, "[{AkkaSource}] {Message}", e.LogSource, Text(e.Message));
    }

    /// <summary>The message as text; a broken format string must not lose the event.</summary>
    private static string Text(object? message)
    {
        try
        {
            return message?.ToString() ?? "";
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException)
        {
            return message is LogMessage m ? $"{m.Format} (unformattable: {ex.Message})" : $"(unformattable log message: {ex.Message})";
        }
    }

    internal static LogLevel ToLevel(AkkaLogLevel level) => level switch
    {
        AkkaLogLevel.DebugLevel => LogLevel.Debug,
        AkkaLogLevel.InfoLevel => LogLevel.Information,
        AkkaLogLevel.WarningLevel => LogLevel.Warning,
        _ => LogLevel.Error,
    };
}
