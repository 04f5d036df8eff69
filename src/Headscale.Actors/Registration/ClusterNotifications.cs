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
        if (((ExtendedActorSystem)system).Provider is ClusterActorRefProvider)
        {
            DistributedPubSub.Get(system).Mediator.Tell(new Publish(topic, message));
        }
    }
}
