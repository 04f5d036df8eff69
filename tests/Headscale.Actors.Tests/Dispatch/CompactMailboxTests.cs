using Akka.Actor;
using Akka.Dispatch.MessageQueues;
using Headscale.Actors.Dispatch;
using Headscale.Actors.Nodes;

namespace Headscale.Actors.Tests.Dispatch;

public sealed class CompactMailboxTests() : Akka.TestKit.Xunit.TestKit(CompactMailboxes.Hocon)
{
    private static IMessageQueue QueueOf(IActorRef actor) => ((ActorCell)((ActorRefWithCell)actor).Underlying).Mailbox!.MessageQueue;

    [Fact]
    public void A_plain_actor_in_the_compact_mailbox_gets_the_compact_queue_and_its_messages()
    {
        var echo = Sys.ActorOf(Props.Create(() => new EchoActor()).WithMailbox(CompactMailboxes.Unbounded));

        echo.Tell("hello", TestActor);

        ExpectMsg("hello", cancellationToken: TestContext.Current.CancellationToken);
        Assert.IsType<CompactMessageQueue>(QueueOf(echo));
    }

    [Fact]
    public void Node_entities_are_made_in_the_compact_deque_mailbox_which_a_stashing_actor_accepts()
    {
        Assert.Equal(CompactMailboxes.Deque, NodeActor.Props("1", new Akka.Hosting.ActorRegistry(), TimeSpan.FromMinutes(1)).Mailbox);

        var stasher = Sys.ActorOf(Props.Create(() => new StashUntilOpenActor()).WithMailbox(CompactMailboxes.Deque));
        stasher.Tell("first", TestActor);
        stasher.Tell("second", TestActor);
        stasher.Tell(StashUntilOpenActor.Open, TestActor);

        ExpectMsg("first", cancellationToken: TestContext.Current.CancellationToken);
        ExpectMsg("second", cancellationToken: TestContext.Current.CancellationToken);
        Assert.IsType<CompactDequeMessageQueue>(QueueOf(stasher));
    }

    private sealed class EchoActor : ReceiveActor
    {
        public EchoActor() => ReceiveAny(message => Sender.Tell(message));
    }

    private sealed class StashUntilOpenActor : ReceiveActor, IWithUnboundedStash
    {
        public const string Open = "open";

        public StashUntilOpenActor()
        {
            Receive<string>(message => message == Open, _ =>
            {
                Become(() => ReceiveAny(message => Sender.Tell(message)));
                Stash.UnstashAll();
            });
            ReceiveAny(_ => Stash.Stash());
        }

        public IStash Stash { get; set; } = null!;
    }
}
