using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace Headscale.Actors.Dispatch;

/// <summary>The config ids of the compact mailboxes (<see cref="CompactMessageQueue"/>); <see cref="Hocon"/> defines them.</summary>
public static class CompactMailboxes
{
    /// <summary>For plain actors (map sessions).</summary>
    public const string Unbounded = "headscale.compact-mailbox";

    /// <summary>For actors that stash (persistent actors such as the node entities need a deque).</summary>
    public const string Deque = "headscale.compact-deque-mailbox";

    public static readonly string Hocon = $$"""
        {{Unbounded}}.mailbox-type = "{{typeof(CompactMailbox).AssemblyQualifiedName}}"
        {{Deque}}.mailbox-type = "{{typeof(CompactDequeMailbox).AssemblyQualifiedName}}"
        """;
}

public sealed class CompactMailbox(Settings settings, Config config) : MailboxType(settings, config), IProducesMessageQueue<CompactMessageQueue>
{
    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new CompactMessageQueue();
}

public sealed class CompactDequeMailbox(Settings settings, Config config) : MailboxType(settings, config), IProducesMessageQueue<CompactDequeMessageQueue>
{
    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new CompactDequeMessageQueue();
}

/// <summary>A <see cref="CompactMessageQueue"/> with the stash's prepend buffer in front of it.</summary>
public sealed class CompactDequeMessageQueue() : DequeWrapperMessageQueue(new CompactMessageQueue()), IUnboundedDequeBasedMessageQueueSemantics;
