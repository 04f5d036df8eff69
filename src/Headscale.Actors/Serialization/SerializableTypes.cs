using System.Collections.Frozen;
using System.Text.Json.Serialization.Metadata;
using Headscale.Actors.ApiKeys;
using Headscale.Actors.Identity;
using Headscale.Actors.Policy;
using Headscale.Actors.Nodes;
using Headscale.Actors.Nodes.Messages;
using Headscale.Actors.PreAuthKeys.Messages;
using Headscale.Actors.Registration.Messages;
using Headscale.Actors.Users.Messages;

namespace Headscale.Actors.Serialization;

/// <summary>
/// The permanent manifest of every serializable type. A manifest, once released, is never reused
/// for another type and never renamed: journals written today must read in ten years.
/// </summary>
public static class SerializableTypes
{
    private static readonly (string Manifest, Type Type, JsonTypeInfo Info)[] All =
    [
        ("ida.r", typeof(IdAllocatorEvents.IdsReserved), PersistedJsonContext.Default.IdsReserved),
        ("ida.s", typeof(IdAllocatorState), PersistedJsonContext.Default.IdAllocatorState),
        ("ida.a", typeof(IdAllocatorCommands.AllocateId), PersistedJsonContext.Default.AllocateId),
        ("ida.ad", typeof(IdAllocatorCommands.IdAllocated), PersistedJsonContext.Default.IdAllocated),

        ("ak.rec", typeof(ApiKeyRecord), PersistedJsonContext.Default.ApiKeyRecord),
        ("ak.s", typeof(ApiKeyState), PersistedJsonContext.Default.ApiKeyState),
        ("ak.c", typeof(ApiKeyCommands.CreateApiKey), PersistedJsonContext.Default.CreateApiKey),
        ("ak.x", typeof(ApiKeyCommands.ExpireApiKey), PersistedJsonContext.Default.ExpireApiKey),
        ("ak.d", typeof(ApiKeyCommands.DeleteApiKey), PersistedJsonContext.Default.DeleteApiKey),
        ("ak.g", typeof(ApiKeyCommands.GetApiKey), PersistedJsonContext.Default.GetApiKey),
        ("ak.l", typeof(ApiKeyCommands.ListApiKeys), PersistedJsonContext.Default.ListApiKeys),
        ("ak.r", typeof(ApiKeyCommands.ApiKeyResult), PersistedJsonContext.Default.ApiKeyResult),
        ("ak.ls", typeof(ApiKeyCommands.ApiKeyList), PersistedJsonContext.Default.ApiKeyList),
        ("ak.e.c", typeof(ApiKeyEvents.ApiKeyCreated), PersistedJsonContext.Default.ApiKeyCreated),
        ("ak.e.x", typeof(ApiKeyEvents.ApiKeyExpired), PersistedJsonContext.Default.ApiKeyExpired),
        ("ak.e.d", typeof(ApiKeyEvents.ApiKeyDeleted), PersistedJsonContext.Default.ApiKeyDeleted),

        ("pol.set", typeof(PolicyCommands.SetPolicy), PersistedJsonContext.Default.SetPolicy),
        ("pol.get", typeof(PolicyCommands.GetPolicy), PersistedJsonContext.Default.GetPolicy),
        ("pol.r", typeof(PolicyCommands.PolicyResult), PersistedJsonContext.Default.PolicyResult),
        ("pol.s", typeof(PolicyState), PersistedJsonContext.Default.PolicyState),
        ("pol.e.c", typeof(PolicyEvents.PolicyChanged), PersistedJsonContext.Default.PolicyChanged),
        ("aud.e.af", typeof(Auditing.AuditEvents.ApiAuthenticationFailed), PersistedJsonContext.Default.ApiAuthenticationFailed),
        ("aud.e.rr", typeof(Auditing.AuditEvents.RegistrationRefused), PersistedJsonContext.Default.RegistrationRefused),
        // Node lifecycle: users, pre-auth keys, node registry, nodes, pending registrations.
        ("cmd.r", typeof(CommandResult), PersistedJsonContext.Default.CommandResult),
        ("usr.u", typeof(User), PersistedJsonContext.Default.User),
        ("usr.c", typeof(UserCommands.CreateUser), PersistedJsonContext.Default.CreateUser),
        ("usr.rn", typeof(UserCommands.RenameUser), PersistedJsonContext.Default.RenameUser),
        ("usr.d", typeof(UserCommands.DeleteUser), PersistedJsonContext.Default.DeleteUser),
        ("usr.cr", typeof(UserCommands.UserCommandResult), PersistedJsonContext.Default.UserCommandResult),
        ("usr.ec", typeof(UserEvents.UserCreated), PersistedJsonContext.Default.UserCreated),
        ("usr.ern", typeof(UserEvents.UserRenamed), PersistedJsonContext.Default.UserRenamed),
        ("usr.ed", typeof(UserEvents.UserDeleted), PersistedJsonContext.Default.UserDeleted),
        ("usr.ql", typeof(UserQueries.ListUsers), PersistedJsonContext.Default.ListUsers),
        ("usr.qg", typeof(UserQueries.GetUser), PersistedJsonContext.Default.GetUser),
        ("usr.l", typeof(UserQueries.UserList), PersistedJsonContext.Default.UserList),
        ("pak.k", typeof(PreAuthKey), PersistedJsonContext.Default.PreAuthKey),
        ("pak.c", typeof(PreAuthKeyCommands.CreatePreAuthKey), PersistedJsonContext.Default.CreatePreAuthKey),
        ("pak.x", typeof(PreAuthKeyCommands.ExpirePreAuthKey), PersistedJsonContext.Default.ExpirePreAuthKey),
        ("pak.u", typeof(PreAuthKeyCommands.UsePreAuthKey), PersistedJsonContext.Default.UsePreAuthKey),
        ("pak.rv", typeof(PreAuthKeyCommands.RevertPreAuthKeyUse), PersistedJsonContext.Default.RevertPreAuthKeyUse),
        ("pak.d", typeof(PreAuthKeyCommands.DeletePreAuthKey), PersistedJsonContext.Default.DeletePreAuthKey),
        ("pak.cr", typeof(PreAuthKeyCommands.PreAuthKeyCommandResult), PersistedJsonContext.Default.PreAuthKeyCommandResult),
        ("pak.ec", typeof(PreAuthKeyEvents.PreAuthKeyCreated), PersistedJsonContext.Default.PreAuthKeyCreated),
        ("pak.ex", typeof(PreAuthKeyEvents.PreAuthKeyExpired), PersistedJsonContext.Default.PreAuthKeyExpired),
        ("pak.eu", typeof(PreAuthKeyEvents.PreAuthKeyUsed), PersistedJsonContext.Default.PreAuthKeyUsed),
        ("pak.erv", typeof(PreAuthKeyEvents.PreAuthKeyUseReverted), PersistedJsonContext.Default.PreAuthKeyUseReverted),
        ("pak.ed", typeof(PreAuthKeyEvents.PreAuthKeyDeleted), PersistedJsonContext.Default.PreAuthKeyDeleted),
        ("pak.qf", typeof(PreAuthKeyQueries.FindPreAuthKey), PersistedJsonContext.Default.FindPreAuthKey),
        ("pak.ql", typeof(PreAuthKeyQueries.ListPreAuthKeys), PersistedJsonContext.Default.ListPreAuthKeys),
        ("pak.l", typeof(PreAuthKeyQueries.PreAuthKeyList), PersistedJsonContext.Default.PreAuthKeyList),
        ("nreg.e", typeof(NodeIndexEntry), PersistedJsonContext.Default.NodeIndexEntry),
        ("nreg.r", typeof(NodeRegistryCommands.ReserveNode), PersistedJsonContext.Default.ReserveNode),
        ("nreg.b", typeof(NodeRegistryCommands.RebindNode), PersistedJsonContext.Default.RebindNode),
        ("nreg.n", typeof(NodeRegistryCommands.ChangeGivenName), PersistedJsonContext.Default.ChangeGivenName),
        ("nreg.rl", typeof(NodeRegistryCommands.ReleaseNode), PersistedJsonContext.Default.ReleaseNode),
        ("nreg.cr", typeof(NodeRegistryCommands.NodeRegistryResult), PersistedJsonContext.Default.NodeRegistryResult),
        ("nreg.er", typeof(NodeRegistryEvents.NodeReserved), PersistedJsonContext.Default.NodeReserved),
        ("nreg.eb", typeof(NodeRegistryEvents.NodeRebound), PersistedJsonContext.Default.NodeRebound),
        ("nreg.en", typeof(NodeRegistryEvents.GivenNameChanged), PersistedJsonContext.Default.GivenNameChanged),
        ("nreg.erl", typeof(NodeRegistryEvents.NodeReleased), PersistedJsonContext.Default.NodeReleased),
        ("nreg.qm", typeof(NodeRegistryQueries.FindByMachineKey), PersistedJsonContext.Default.FindByMachineKey),
        ("nreg.qk", typeof(NodeRegistryQueries.FindByNodeKey), PersistedJsonContext.Default.FindByNodeKey),
        ("nreg.ql", typeof(NodeRegistryQueries.ListIndex), PersistedJsonContext.Default.ListIndex),
        ("nreg.l", typeof(NodeRegistryQueries.NodeIndexList), PersistedJsonContext.Default.NodeIndexList),
        ("nreg.s", typeof(NodeRegistrySnapshot), PersistedJsonContext.Default.NodeRegistrySnapshot),
        ("node.n", typeof(Node), PersistedJsonContext.Default.Node),
        ("node.r", typeof(NodeCommands.RegisterNode), PersistedJsonContext.Default.RegisterNode),
        ("node.ra", typeof(NodeCommands.ReauthenticateNode), PersistedJsonContext.Default.ReauthenticateNode),
        ("node.k", typeof(NodeCommands.RotateNodeKey), PersistedJsonContext.Default.RotateNodeKey),
        ("node.x", typeof(NodeCommands.ExpireNode), PersistedJsonContext.Default.ExpireNode),
        ("node.rn", typeof(NodeCommands.RenameNode), PersistedJsonContext.Default.RenameNode),
        ("node.d", typeof(NodeCommands.DeleteNode), PersistedJsonContext.Default.DeleteNode),
        ("node.on", typeof(NodeCommands.NodeConnected), PersistedJsonContext.Default.NodeConnected),
        ("node.off", typeof(NodeCommands.NodeDisconnected), PersistedJsonContext.Default.NodeDisconnected),
        ("node.cr", typeof(NodeCommands.NodeCommandResult), PersistedJsonContext.Default.NodeCommandResult),
        ("node.er", typeof(NodeEvents.NodeRegistered), PersistedJsonContext.Default.NodeRegistered),
        ("node.era", typeof(NodeEvents.NodeReauthenticated), PersistedJsonContext.Default.NodeReauthenticated),
        ("node.ek", typeof(NodeEvents.NodeKeyRotated), PersistedJsonContext.Default.NodeKeyRotated),
        ("node.ex", typeof(NodeEvents.NodeExpired), PersistedJsonContext.Default.NodeExpired),
        ("node.ern", typeof(NodeEvents.NodeRenamed), PersistedJsonContext.Default.NodeRenamed),
        ("node.ed", typeof(NodeEvents.NodeDeleted), PersistedJsonContext.Default.NodeDeleted),
        ("node.els", typeof(NodeEvents.NodeLastSeen), PersistedJsonContext.Default.NodeLastSeen),
        ("node.qg", typeof(NodeQueries.GetNode), PersistedJsonContext.Default.GetNode),
        ("node.hi", typeof(NodeCommands.UpdateHostinfo), PersistedJsonContext.Default.UpdateHostinfo),
        ("node.dk", typeof(NodeCommands.UpdateDiscoKey), PersistedJsonContext.Default.UpdateDiscoKey),
        ("node.ar", typeof(NodeCommands.SetApprovedRoutes), PersistedJsonContext.Default.SetApprovedRoutes),
        ("node.t", typeof(NodeCommands.SetTags), PersistedJsonContext.Default.SetTags),
        ("node.mv", typeof(NodeCommands.MoveNode), PersistedJsonContext.Default.MoveNode),
        ("node.ip", typeof(NodeCommands.AssignAddresses), PersistedJsonContext.Default.AssignAddresses),
        ("node.ehi", typeof(NodeEvents.HostinfoChanged), PersistedJsonContext.Default.HostinfoChanged),
        ("node.edk", typeof(NodeEvents.DiscoKeyChanged), PersistedJsonContext.Default.DiscoKeyChanged),
        ("node.ear", typeof(NodeEvents.ApprovedRoutesChanged), PersistedJsonContext.Default.ApprovedRoutesChanged),
        ("node.et", typeof(NodeEvents.TagsChanged), PersistedJsonContext.Default.TagsChanged),
        ("node.emv", typeof(NodeEvents.NodeMoved), PersistedJsonContext.Default.NodeMoved),
        ("node.eip", typeof(NodeEvents.AddressesAssigned), PersistedJsonContext.Default.AddressesAssigned),
        ("node.qv", typeof(NodeQueries.GetNodeVersion), PersistedJsonContext.Default.GetNodeVersion),
        ("node.chg", typeof(NodeNotifications.NodeChanged), PersistedJsonContext.Default.NodeChanged),
        ("nreg.o", typeof(NodeRegistryCommands.ChangeOwner), PersistedJsonContext.Default.ChangeOwner),
        ("nreg.bf", typeof(NodeRegistryCommands.BackfillAddresses), PersistedJsonContext.Default.BackfillAddresses),
        ("nreg.eo", typeof(NodeRegistryEvents.OwnerChanged), PersistedJsonContext.Default.OwnerChanged),
        ("nreg.ebf", typeof(NodeRegistryEvents.AddressesBackfilled), PersistedJsonContext.Default.AddressesBackfilled),
        ("usr.chg", typeof(UserNotifications.UserChanged), PersistedJsonContext.Default.UserChanged),
        ("pol.chg", typeof(PolicyNotifications.PolicyTextChanged), PersistedJsonContext.Default.PolicyTextChanged),
        ("nmap.ep", typeof(NetworkMap.EndpointNotifications.EndpointsReported), PersistedJsonContext.Default.EndpointsReported),
        ("nmap.on", typeof(NetworkMap.OnlineNotifications.OnlineReported), PersistedJsonContext.Default.OnlineReported),
        ("nmap.ons", typeof(NetworkMap.OnlineNotifications.OnlineSnapshot), PersistedJsonContext.Default.OnlineSnapshot),
        ("nmap.onq", typeof(NetworkMap.OnlineNotifications.OnlineSnapshotRequested), PersistedJsonContext.Default.OnlineSnapshotRequested),
        ("preg.p", typeof(PendingRegistration), PersistedJsonContext.Default.PendingRegistration),
        ("preg.s", typeof(PendingRegistrationCommands.StartRegistration), PersistedJsonContext.Default.StartRegistration),
        ("preg.a", typeof(PendingRegistrationCommands.AwaitRegistration), PersistedJsonContext.Default.AwaitRegistration),
        ("preg.c", typeof(PendingRegistrationCommands.ClaimRegistration), PersistedJsonContext.Default.ClaimRegistration),
        ("preg.pk", typeof(PendingRegistrationCommands.PeekRegistration), PersistedJsonContext.Default.PeekRegistration),
        ("preg.f", typeof(PendingRegistrationCommands.FinishRegistration), PersistedJsonContext.Default.FinishRegistration),
        ("preg.cr", typeof(PendingRegistrationCommands.ClaimResult), PersistedJsonContext.Default.ClaimResult),
        ("preg.v", typeof(PendingRegistrationCommands.RegistrationVerdict), PersistedJsonContext.Default.RegistrationVerdict),
    ];

    public static readonly FrozenDictionary<Type, (string Manifest, JsonTypeInfo Info)> ByType =
        All.ToFrozenDictionary(e => e.Type, e => (e.Manifest, e.Info));

    public static readonly FrozenDictionary<string, JsonTypeInfo> ByManifest =
        All.ToFrozenDictionary(e => e.Manifest, e => e.Info, StringComparer.Ordinal);
}
