using Headscale.Api.Hosting;
using Microsoft.AspNetCore.Connections;

namespace Headscale.Api.Tests.Hosting;

public sealed class TrimmingMemoryPoolTests
{
    [Fact]
    public void A_returned_block_is_rented_again_instead_of_a_new_one()
    {
        using var pool = new TrimmingMemoryPool();

        var first = pool.Rent();
        Assert.Equal(TrimmingMemoryPool.BlockSize, first.Memory.Length);
        var firstMemory = first.Memory;
        first.Dispose();
        using var second = pool.Rent(100);

        Assert.True(second.Memory.Span == firstMemory.Span, "the returned block is handed out again");
        Assert.Equal(1, pool.AllocatedBlocks);
    }

    [Fact]
    public void Each_trim_lets_go_half_of_the_blocks_no_rent_needed_since_the_previous_trim()
    {
        using var pool = new TrimmingMemoryPool();
        ReturnAll(RentMany(pool, 10));

        // The burst fell inside this interval: all ten were needed, none is let go yet.
        Assert.Equal(0, pool.Trim());
        Assert.Equal(10, pool.FreeBlocks);

        var released = new List<int>();
        while (pool.FreeBlocks > 0)
        {
            released.Add(pool.Trim());
        }

        Assert.Equal([5, 3, 1, 1], released);
        Assert.Equal(10, pool.ReleasedBlocks);
        Assert.Equal(0, pool.Trim());
    }

    [Fact]
    public void Blocks_rented_during_an_interval_stay_for_the_next_one()
    {
        using var pool = new TrimmingMemoryPool();
        ReturnAll(RentMany(pool, 10));
        pool.Trim();

        // Six at once were needed in this interval: only half of the other four may go.
        ReturnAll(RentMany(pool, 6));

        Assert.Equal(2, pool.Trim());
        Assert.Equal(8, pool.FreeBlocks);
        Assert.Equal(10, pool.AllocatedBlocks);
    }

    [Fact]
    public void A_rent_the_pool_cannot_serve_makes_a_new_block_and_keeps_every_free_one()
    {
        using var pool = new TrimmingMemoryPool();
        ReturnAll(RentMany(pool, 4));
        pool.Trim();

        var held = RentMany(pool, 5);
        ReturnAll(held);

        Assert.Equal(0, pool.Trim());
        Assert.Equal(5, pool.FreeBlocks);
        Assert.Equal(5, pool.AllocatedBlocks);
    }

    [Fact]
    public void Asking_for_more_than_a_block_or_renting_after_dispose_is_refused()
    {
        var pool = new TrimmingMemoryPool();
        var tooLarge = Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(TrimmingMemoryPool.BlockSize + 1));
        Assert.Equal("minBufferSize", tooLarge.ParamName);

        var held = pool.Rent();
        pool.Dispose();
        held.Dispose();

        Assert.Throws<ObjectDisposedException>(() => pool.Rent());
        Assert.Equal(0, pool.FreeBlocks);
        Assert.Equal(1, pool.ReleasedBlocks);
    }

    [Fact]
    public void The_factory_trims_every_pool_it_made_until_the_pool_is_disposed()
    {
        using var factory = new TrimmingMemoryPoolFactory(TimeProvider.System, TimeSpan.FromHours(1));
        var first = (TrimmingMemoryPool)factory.Create(new MemoryPoolOptions { Owner = "first" });
        var second = (TrimmingMemoryPool)factory.Create(new MemoryPoolOptions { Owner = "second" });
        ReturnAll(RentMany(first, 4));
        ReturnAll(RentMany(second, 2));
        factory.TrimAll();

        Assert.Equal(3, factory.TrimAll());
        Assert.Equal(2, first.FreeBlocks);
        Assert.Equal(1, second.FreeBlocks);

        second.Dispose();
        Assert.Equal([first], factory.Pools);
        Assert.Equal(1, factory.TrimAll());
    }

    [Fact]
    public void The_factory_refuses_a_trim_interval_that_is_not_positive() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrimmingMemoryPoolFactory(TimeProvider.System, TimeSpan.Zero));

    private static List<System.Buffers.IMemoryOwner<byte>> RentMany(TrimmingMemoryPool pool, int count) =>
        Enumerable.Range(0, count).Select(_ => pool.Rent()).ToList();

    private static void ReturnAll(List<System.Buffers.IMemoryOwner<byte>> blocks) => blocks.ForEach(static block => block.Dispose());
}
