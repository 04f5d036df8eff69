using Headscale.Derp.Keys;
using Headscale.Derp.Server;

namespace Headscale.Derp.Tests;

public sealed class AdmissionLedgerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    private static DerpPublicKey NewKey() => DerpPrivateKey.Generate().PublicKey;

    [Fact]
    public void Deleting_the_owner_revokes_its_keys_and_only_its_keys()
    {
        var ledger = new DerpAdmissionLedger();
        var mine = NewKey();
        var other = NewKey();
        Assert.True(ledger.Admit(mine, 1, null, Now));
        Assert.True(ledger.Admit(other, 2, null, Now));

        Assert.Equal([mine], ledger.OwnerChanged(1, 5, currentKey: null, expiry: null, Now));
        Assert.Empty(ledger.OwnerChanged(2, 3, other, null, Now));
        Assert.Equal(1, ledger.Count);
        Assert.False(ledger.Admit(mine, 1, null, Now), "a key of a deleted owner is not admitted again");
    }

    [Fact]
    public void A_rotated_key_revokes_the_old_one_and_admits_the_new_one()
    {
        var ledger = new DerpAdmissionLedger();
        var old = NewKey();
        var rotated = NewKey();
        Assert.True(ledger.Admit(old, 7, null, Now));

        Assert.Equal([old], ledger.OwnerChanged(7, 2, rotated, null, Now));
        Assert.False(ledger.Admit(old, 7, null, Now));
        Assert.True(ledger.Admit(rotated, 7, null, Now));
    }

    [Fact]
    public void An_expiry_in_the_past_revokes_as_logout_does_and_a_later_expiry_is_taken_when_due()
    {
        var ledger = new DerpAdmissionLedger();
        var loggedOut = NewKey();
        var timed = NewKey();
        Assert.True(ledger.Admit(loggedOut, 1, null, Now));
        Assert.True(ledger.Admit(timed, 2, Now.AddMinutes(10), Now));
        Assert.Equal(Now.AddMinutes(10), ledger.NextExpiry);

        Assert.Equal([loggedOut], ledger.OwnerChanged(1, 4, loggedOut, DateTimeOffset.FromUnixTimeSeconds(123), Now));
        Assert.Empty(ledger.TakeExpired(Now.AddMinutes(9)));
        Assert.Equal([timed], ledger.TakeExpired(Now.AddMinutes(10)));
        Assert.Null(ledger.NextExpiry);
        Assert.Equal(0, ledger.Count);
    }

    [Fact]
    public void An_extended_expiry_keeps_the_key_past_its_old_expiry()
    {
        var ledger = new DerpAdmissionLedger();
        var key = NewKey();
        Assert.True(ledger.Admit(key, 3, Now.AddMinutes(1), Now));

        Assert.Empty(ledger.OwnerChanged(3, 9, key, Now.AddDays(1), Now));
        Assert.Empty(ledger.TakeExpired(Now.AddMinutes(2)));
        Assert.Equal(Now.AddDays(1), ledger.NextExpiry);
    }

    [Fact]
    public void A_stale_copy_of_an_owner_state_changes_nothing()
    {
        var ledger = new DerpAdmissionLedger();
        var old = NewKey();
        var current = NewKey();
        Assert.True(ledger.Admit(current, 4, null, Now));
        Assert.Empty(ledger.OwnerChanged(4, 10, current, null, Now));

        Assert.Empty(ledger.OwnerChanged(4, 9, old, null, Now));
        Assert.Empty(ledger.OwnerChanged(4, 10, null, null, Now));
        Assert.Equal(1, ledger.Count);
    }

    [Fact]
    public void An_admission_decided_on_data_older_than_a_seen_change_is_refused()
    {
        var ledger = new DerpAdmissionLedger();
        var key = NewKey();
        // The deletion arrives while the admission's registry lookup (which still saw the node) is in flight.
        Assert.Empty(ledger.OwnerChanged(5, 3, null, null, Now));
        Assert.False(ledger.Admit(key, 5, null, Now));

        var expired = NewKey();
        Assert.False(ledger.Admit(expired, 6, Now.AddSeconds(-1), Now), "an expired key is never admitted");
    }
}
