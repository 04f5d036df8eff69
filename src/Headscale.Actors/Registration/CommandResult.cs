using Headscale.Actors.Serialization;

namespace Headscale.Actors;

/// <summary>The outcome class of a command; the Api maps each to one status code in one place.</summary>
public enum ResultCode
{
    Ok = 0,

    /// <summary>The command changed nothing (a duplicate or retry); not an error.</summary>
    NoOp = 1,
    BadRequest = 2,
    NotFound = 3,
    Conflict = 4,
    Unauthorized = 5,
    Expired = 6,
}

/// <summary>The result of a command, with a message for the caller when it is not <see cref="ResultCode.Ok"/>.</summary>
public sealed record CommandResult(ResultCode Code, string Message) : IHeadscaleSerializable
{
    public static readonly CommandResult Ok = new(ResultCode.Ok, "");

    public static readonly CommandResult NoOp = new(ResultCode.NoOp, "");

    public bool Succeeded => Code is ResultCode.Ok or ResultCode.NoOp;

    public static CommandResult Fail(ResultCode code, string message) => new(code, message);
}

/// <summary>What a pure <c>Decide</c> returns: the result and the events to persist (none when it fails).</summary>
public readonly record struct Decision<TEvent>(CommandResult Result, IReadOnlyList<TEvent> Events)
{
    public static Decision<TEvent> Accept(params TEvent[] events) => new(CommandResult.Ok, events);

    public static Decision<TEvent> NoOp() => new(CommandResult.NoOp, []);

    public static Decision<TEvent> Reject(ResultCode code, string message) => new(CommandResult.Fail(code, message), []);
}
