using Akka.Actor;
using Akka.Hosting;
using Headscale.Actors.Nodes;
using Headscale.Actors.Nodes.Messages;
using Headscale.Actors.Users;
using static Headscale.Actors.Nodes.Messages.NodeCommands;

namespace Headscale.Actors.Tests.Lifecycle;

/// <summary>One node entity on the in-memory journal: new commands persist, bad ones write nothing, and recovery restores it all.</summary>
public sealed class NodeActorJournalTests() : Akka.TestKit.Xunit.TestKit(Headscale.Actors.Dispatch.CompactMailboxes.Hocon)
{
    private static readonly DateTimeOffset At = new(2026, 4, 5, 6, 7, 8, TimeSpan.Zero);
    private static readonly Cause Cli = Cause.Cli("test");

    private IActorRef Start(string id) => Sys.ActorOf(NodeActor.Props(id, new ActorRegistry(), TimeSpan.FromMinutes(1)));

    private static Task<NodeCommandResult> Ask(IActorRef node, object command) =>
        node.Ask<NodeCommandResult>(command, TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

    private static async Task<long> VersionAsync(IActorRef node, NodeId id) =>
        (await node.Ask<NodeNotifications.NodeChanged>(new NodeQueries.GetNodeVersion(id), TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken)).Version;

    [Fact]
    public async Task Node_state_survives_a_restart_and_rejected_commands_write_no_event()
    {
        var id = new NodeId(77);
        var node = Start("77");
        await Ask(node, new RegisterNode(id, TestKeys.Machine(7), TestKeys.Node(7), new UserId(1), "h", "h", "100.64.0.7", "", null, false, [], null, RegisterMethod.Cli, At, Cli));
        await Ask(node, new UpdateHostinfo(id, """{"Hostname":"box","RoutableIPs":["10.9.0.0/16"]}""", "box", ["10.9.0.0/16"], At, Cli));
        await Ask(node, new SetApprovedRoutes(id, ["10.9.0.0/16"], At, Cli));
        await Ask(node, new SetTags(id, ["tag:box"], At, Cli));
        await Ask(node, new MoveNode(id, new UserId(2), At, Cli));
        var versionBefore = await VersionAsync(node, id);

        Assert.Equal(ResultCode.BadRequest, (await Ask(node, new SetTags(id, ["box"], At, Cli))).Result.Code);
        Assert.Equal(ResultCode.BadRequest, (await Ask(node, new SetApprovedRoutes(id, ["10.9.0.0/99"], At, Cli))).Result.Code);
        Assert.Equal(ResultCode.BadRequest, (await Ask(node, new UpdateHostinfo(id, "{}", "", ["x"], At, Cli))).Result.Code);
        Assert.Equal(versionBefore, await VersionAsync(node, id));
        Assert.Equal(5, versionBefore);

        Watch(node);
        Sys.Stop(node);
        await ExpectTerminatedAsync(node, cancellationToken: TestContext.Current.CancellationToken);
        var recovered = (await Ask(Start("77"), new NodeQueries.GetNode(id))).Node!;

        Assert.Equal("box", recovered.Hostname);
        Assert.Equal(["10.9.0.0/16"], recovered.AnnouncedRoutes);
        Assert.Equal(["10.9.0.0/16"], recovered.ApprovedRoutes);
        Assert.Equal(["tag:box"], recovered.Tags);
        Assert.Equal(new UserId(2), recovered.User);
        Assert.Contains("RoutableIPs", recovered.Hostinfo);
    }
}
