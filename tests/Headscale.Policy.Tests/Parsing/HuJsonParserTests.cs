using Headscale.Policy.HuJson;
using Xunit;

namespace Headscale.Policy.Tests.Parsing;

public sealed class HuJsonParserTests
{
    [Fact]
    public void Comments_and_trailing_commas_are_accepted()
    {
        const string text = """
            // leading comment
            {
              /* block
                 comment */
              "a": [1, 2, 3,], // trailing comma in array
              "b": {"c": "d",},
            }
            """;
        var root = Assert.IsType<HuObject>(HuJsonParser.Parse(text));
        Assert.Equal(["a", "b"], root.Members.Select(m => m.Name));
        Assert.Equal(3, Assert.IsType<HuArray>(root.Members[0].Value).Items.Count);
        Assert.Equal(new TextPosition(5, 3), root.Members[0].NamePosition);
    }

    [Fact]
    public void Escapes_and_numbers_keep_their_meaning()
    {
        var root = Assert.IsType<HuObject>(HuJsonParser.Parse("""{"s": "a\"b\u0041\n", "n": -12.5e3, "t": true, "f": false, "z": null}"""));
        Assert.Equal("a\"bA\n", Assert.IsType<HuString>(root.Members[0].Value).Value);
        Assert.Equal("-12.5e3", Assert.IsType<HuNumber>(root.Members[1].Value).Literal);
        Assert.True(Assert.IsType<HuBoolean>(root.Members[2].Value).Value);
        Assert.IsType<HuNull>(root.Members[4].Value);
    }

    [Theory]
    [InlineData("{\"a\": 1\n \"b\": 2}", 2, 2, "expected ',' or '}', found '\"'")]
    [InlineData("{\"a\" 1}", 1, 6, "expected ':' after member name \"a\", found '1'")]
    [InlineData("[1, 2", 1, 6, "expected ',' or ']', found end of input")]
    [InlineData("{a: 1}", 1, 2, "expected a quoted member name or '}', found 'a'")]
    [InlineData("{\"a\": tru}", 1, 7, "expected 'true', found 't'")]
    [InlineData("{\"a\": 1, \"a\": 2}", 1, 10, "expected unique member names, found duplicate name \"a\"")]
    [InlineData("/* never closed", 1, 1, "expected '*/' closing the comment, found end of input")]
    [InlineData("{} x", 1, 4, "expected end of input, found 'x'")]
    [InlineData("\"tab\there\"", 1, 5, "expected a string character (control characters must be escaped), found a tab")]
    public void Malformed_text_reports_line_column_and_expectation(string text, int line, int column, string message)
    {
        var e = Assert.Throws<HuJsonException>(() => HuJsonParser.Parse(text));
        Assert.Equal(new TextPosition(line, column), e.Position);
        Assert.Equal($"line {line}, column {column}: {message}", e.Message);
    }

    [Fact]
    public void Nesting_is_bounded()
    {
        var deep = new string('[', 100) + new string(']', 100);
        var e = Assert.Throws<HuJsonException>(() => HuJsonParser.Parse(deep));
        Assert.Contains("at most 64 levels of nesting", e.Message);
    }

    [Fact]
    public void Writer_round_trips_values_as_compact_json()
    {
        var value = HuJsonParser.Parse("{\"x\": [1, {\"y\": \"z\"}, true, null], // c\n}");
        Assert.Equal("{\"x\":[1,{\"y\":\"z\"},true,null]}", HuJsonWriter.ToJson(value));
    }
}
