using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using Headscale.Actors.Nodes.Messages;
using Headscale.Actors.PreAuthKeys.Messages;
using Headscale.Actors.Registration;
using Headscale.Actors.Users.Messages;
using Microsoft.Extensions.DependencyInjection;

namespace Headscale.Actors.Tests.Lifecycle;

/// <summary>The journal is the audit log: events are tagged for queries and carry who did what, when.</summary>
public sealed class EventTagTests(LifecycleHost host) : IClassFixture<LifecycleHost>
{
    [Fact]
    public async Task A_registration_can_be_read_back_by_tag_with_time_and_cause()
    {
        var ct = TestContext.Current.CancellationToken;
        var user = await host.CreateUserAsync("audit");
        var key = await host.CreateKeyAsync(user.Id);
        var node = (await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode(), key))).Node!;
        var keyId = node.AuthKey!.Value.ToString();

        var nodeEvents = await ReadTagAsync(EventTags.NodeChanged, ct);
        var userEvents = await ReadTagAsync(EventTags.UserChanged, ct);
        var keyEvents = await ReadTagAsync(EventTags.PreAuthKeyChanged, ct);

        var registered = Assert.Single(nodeEvents.OfType<NodeEvents.NodeRegistered>(), e => e.Id == node.Id);
        Assert.Equal(new Cause(CauseKind.PreAuthKey, keyId), registered.Cause);
        Assert.Equal(node.CreatedAt, registered.At);
        Assert.Single(nodeEvents.OfType<NodeRegistryEvents.NodeReserved>(), e => e.Id == node.Id);
        Assert.Equal(Cause.Cli("users create"), Assert.Single(userEvents.OfType<UserEvents.UserCreated>(), e => e.Id == user.Id).Cause);
        Assert.Single(keyEvents.OfType<PreAuthKeyEvents.PreAuthKeyUsed>(), e => e.Id == node.AuthKey);
    }

    private async Task<List<object>> ReadTagAsync(string tag, CancellationToken ct)
    {
        var system = host.Services.GetRequiredService<ActorSystem>();
        var journal = PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        var envelopes = await journal.CurrentEventsByTag(tag, Offset.NoOffset())
            .RunWith(Sink.Seq<EventEnvelope>(), system.Materializer())
            .WaitAsync(TimeSpan.FromSeconds(30), ct);
        return [.. envelopes.Select(e => e.Event)];
    }
}
