using Headscale.Actors.NetworkMap;

namespace Headscale.Actors.Tests.NetworkMap;

public sealed class PeerIdSetTests
{
    [Fact]
    public void A_set_is_sized_to_the_slots_in_use_not_to_the_next_power_of_two()
    {
        var slots = new NodeSlots();
        var viewers = Enumerable.Range(0, 3).Select(_ => new PeerIdSet(slots)).ToList();
        // Nodes join one at a time and every viewer sees each of them, as with an allow-all policy.
        for (long id = 1; id <= 5_000; id++)
        {
            foreach (var viewer in viewers)
            {
                viewer.Add(id);
            }
        }

        var needed = (5_000 + 63) / 64;
        Assert.All(viewers, viewer => Assert.InRange(viewer.Words, needed, needed + (needed / 16) + 1));
        Assert.All(viewers, viewer => Assert.Equal(5_000, viewer.Ids().Count()));

        var late = new PeerIdSet(slots);
        late.AddSlot(4_999);
        Assert.InRange(late.Words, needed, needed + (needed / 16) + 1);
    }

    [Fact]
    public void Ids_are_added_removed_and_listed_whatever_their_size()
    {
        var slots = new NodeSlots();
        var set = new PeerIdSet(slots);

        Assert.True(set.Add(7));
        Assert.False(set.Add(7));
        Assert.True(set.Add(long.MaxValue));
        for (long id = 1_000; id < 1_200; id++)
        {
            set.Add(id);
        }

        Assert.True(set.Contains(long.MaxValue));
        Assert.False(set.Contains(8));
        Assert.True(set.Remove(7));
        Assert.False(set.Remove(7));
        Assert.False(set.Remove(12345));
        Assert.Equal(201, set.Ids().Count());
        Assert.Contains(long.MaxValue, set.Ids());
        Assert.DoesNotContain(7L, set.Ids());

        set.Clear();
        Assert.Empty(set.Ids());
        Assert.False(set.Contains(1_000));
    }

    [Fact]
    public void A_released_slot_goes_to_the_next_node_and_sets_of_different_viewers_are_independent()
    {
        var slots = new NodeSlots();
        var a = new PeerIdSet(slots);
        var b = new PeerIdSet(slots);
        a.Add(3);
        b.Add(5);
        a.Remove(3);
        var freed = slots.SlotOf(3);

        slots.Release(3);

        Assert.Equal(freed, slots.SlotOf(9));
        Assert.False(a.Contains(9));
        Assert.False(a.Contains(3));
        Assert.True(b.Contains(5));
        Assert.False(b.Contains(9));
    }
}
