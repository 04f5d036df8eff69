using Akka.Actor;
using Akka.Pattern;
using Microsoft.Extensions.DependencyInjection;

namespace Headscale.Actors.Auditing;

/// <summary>Records refused attempts in the audit log; fire and forget, never blocks the caller.</summary>
public interface IAuditRecorder
{
    /// <param name="prefix">The API key prefix if the header held a well-formed key, else empty. Never pass the secret.</param>
    /// <param name="reason">Why the key was refused (missing, malformed, unknown-prefix, expired, wrong-secret).</param>
    /// <param name="remote">The caller's address.</param>
    /// <param name="via">The management method or route that was called.</param>
    void ApiAuthenticationFailed(string prefix, string reason, string remote, string via);

    /// <param name="machineKey">The machine's public key.</param>
    /// <param name="method">preauthkey, interactive, followup or logout.</param>
    /// <param name="reason">The error the client was given; never the pre-auth key.</param>
    void RegistrationRefused(string machineKey, string method, string reason);
}

/// <summary>
/// Owns this process's <see cref="AuditRecorderActor"/>, started on first use (after the host is up:
/// refusals only happen while serving). A backoff supervisor restarts it if a journal write fails.
/// </summary>
internal sealed class ActorAuditRecorder(IServiceProvider services, TimeProvider time) : IAuditRecorder
{
    private readonly Lazy<IActorRef> _recorder = new(() =>
    {
        var system = services.GetRequiredService<ActorSystem>();
        var persistenceId = AuditRecorderActor.PersistenceIdPrefix + Guid.NewGuid().ToString("N");
        var child = AuditRecorderActor.Props(persistenceId, time);
        return system.ActorOf(
            BackoffSupervisor.Props(Backoff.OnStop(child, "recorder", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 0.2, maxNrOfRetries: -1)),
            "audit-recorder");
    });

    public void ApiAuthenticationFailed(string prefix, string reason, string remote, string via) =>
        _recorder.Value.Tell(new AuditRecorderCommands.RecordApiAuthenticationFailure(prefix, reason, remote, via, time.GetUtcNow()));

    public void RegistrationRefused(string machineKey, string method, string reason) =>
        _recorder.Value.Tell(new AuditRecorderCommands.RecordRegistrationRefusal(machineKey, method, reason, time.GetUtcNow()));
}

public static class AuditingServiceExtensions
{
    /// <summary>Registers <see cref="IAuditRecorder"/> over this process's recorder actor.</summary>
    public static IServiceCollection AddHeadscaleAuditRecorder(this IServiceCollection services)
    {
        services.AddSingleton<IAuditRecorder, ActorAuditRecorder>();
        return services;
    }
}
