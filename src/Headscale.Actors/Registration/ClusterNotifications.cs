using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.PublishSubscribe;

namespace Headscale.Actors.Registration;

/// <summary>Publishes a notification to every member subscribed to a DistributedPubSub topic (decision 0007).</summary>
internal static class ClusterNotifications
{
    /// <summary>
    /// Sends <paramref name="message"/> to <paramref name="topic"/>. An actor system that is not a
    /// cluster member (a single entity under test) has no subscribers, so nothing is sent.
    /// </summary>
    public static void Publish(ActorSystem system, string topic, object message)
    {
        if (IsClusterMember(system))
        {
            DistributedPubSub.Get(system).Mediator.Tell(new Publish(topic, message));
        }
    }

    /// <summary>Subscribes <paramref name="subscriber"/> to <paramref name="topic"/> (it receives a <see cref="SubscribeAck"/>); nothing outside a cluster.</summary>
    public static void Subscribe(ActorSystem system, string topic, IActorRef subscriber)
    {
        if (IsClusterMember(system))
        {
            DistributedPubSub.Get(system).Mediator.Tell(new Subscribe(topic, subscriber), subscriber);
        }
    }

    /// <summary>False for an actor system that is not a cluster member (a single entity under test).</summary>
    public static bool IsClusterMember(ActorSystem system) => ((ExtendedActorSystem)system).Provider is ClusterActorRefProvider;
}
