namespace Headscale.Policy.HuJson;

/// <summary>Where a value starts in the source text; 1-based line and column.</summary>
public readonly record struct TextPosition(int Line, int Column)
{
    public override string ToString() => $"line {Line}, column {Column}";
}

public enum HuKind { Object, Array, String, Number, Boolean, Null }

/// <summary>
/// A parsed HuJSON value that remembers where it came from, so later stages (unknown fields,
/// wrong types) can report a position. Immutable once built.
/// </summary>
public abstract record HuValue(TextPosition Position)
{
    public abstract HuKind Kind { get; }

    public string KindName => Kind switch
    {
        HuKind.Object => "object",
        HuKind.Array => "array",
        HuKind.String => "string",
        HuKind.Number => "number",
        HuKind.Boolean => "boolean",
        _ => "null",
    };
}

public sealed record HuMember(string Name, TextPosition NamePosition, HuValue Value);

public sealed record HuObject(TextPosition Position, IReadOnlyList<HuMember> Members) : HuValue(Position)
{
    public override HuKind Kind => HuKind.Object;
}

public sealed record HuArray(TextPosition Position, IReadOnlyList<HuValue> Items) : HuValue(Position)
{
    public override HuKind Kind => HuKind.Array;
}

public sealed record HuString(TextPosition Position, string Value) : HuValue(Position)
{
    public override HuKind Kind => HuKind.String;
}

/// <summary>A number, kept as its literal text so that integers and durations are not rounded.</summary>
public sealed record HuNumber(TextPosition Position, string Literal) : HuValue(Position)
{
    public override HuKind Kind => HuKind.Number;
}

public sealed record HuBoolean(TextPosition Position, bool Value) : HuValue(Position)
{
    public override HuKind Kind => HuKind.Boolean;
}

public sealed record HuNull(TextPosition Position) : HuValue(Position)
{
    public override HuKind Kind => HuKind.Null;
}

/// <summary>Thrown for malformed HuJSON text; the message names the position and what was expected.</summary>
public sealed class HuJsonException(TextPosition position, string expected, string found)
    : FormatException($"{position}: expected {expected}, found {found}")
{
    public TextPosition Position { get; } = position;

    /// <summary>The message without the position: "expected …, found …".</summary>
    public string Expectation { get; } = $"expected {expected}, found {found}";
}
