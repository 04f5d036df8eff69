using System.Runtime.InteropServices;
using Akka.Hosting;
using Headscale.Actors.NetworkMap;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Headscale.Api.Hosting;

/// <summary>
/// SIGHUP re-reads the policy file (<c>policy.mode: file</c>), as Headscale does: edit the file,
/// check it with <c>headscale policy check</c>, then <c>kill -HUP</c> the server. Without this
/// registration SIGHUP would end the process. Each host reads its own file: signal every host.
/// </summary>
public sealed partial class SighupPolicyReload(ActorRegistry registry, ILogger<SighupPolicyReload> log) : IHostedService, IDisposable
{
    private PosixSignalRegistration? _registration;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsWindows())
        {
            _registration = PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnSighup);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _registration?.Dispose();
        _registration = null;
    }

    private void OnSighup(PosixSignalContext context)
    {
        context.Cancel = true;
        LogReload(log);
        if (registry.TryGet<NetworkMapFeedRegistryKey>(out var feed))
        {
            feed.Tell(NetworkMapCommands.ReloadPolicyFile.Instance, Akka.Actor.ActorRefs.NoSender);
        }
    }

    [LoggerMessage(EventId = 1050, Level = LogLevel.Information, Message = "SIGHUP: reloading the policy file")]
    private static partial void LogReload(ILogger logger);
}
