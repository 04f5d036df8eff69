using Headscale.Api.Configuration;
using Headscale.Api.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Headscale.Api.Tests.Hosting;

public sealed class ServerLoggingTests
{
    private static ILoggerFactory Loggers(LogLevel level) =>
        new ServiceCollection()
            .AddLogging(logging => ServerHost.ConfigureLogging(logging, new LogConfig(level, false)))
            .BuildServiceProvider()
            .GetRequiredService<ILoggerFactory>();

    [Theory]
    [InlineData(LogLevel.Trace)]
    [InlineData(LogLevel.Information)]
    public void Hosting_diagnostics_are_off_at_every_level_so_requests_carry_no_activity_or_log_scope(LogLevel level)
    {
        using var loggers = Loggers(level);

        // ASP.NET Core hosting starts an Activity and a log scope per request whenever this logger is enabled at all.
        Assert.False(loggers.CreateLogger("Microsoft.AspNetCore.Hosting.Diagnostics").IsEnabled(LogLevel.Critical));
        Assert.True(loggers.CreateLogger("Microsoft.AspNetCore.Server.Kestrel").IsEnabled(LogLevel.Warning));
        Assert.True(loggers.CreateLogger("Headscale.Api.Observability.RequestLoggingMiddleware").IsEnabled(LogLevel.Information));
    }
}
