using System.Globalization;
using System.Text;

namespace Headscale.Policy.HuJson;

/// <summary>
/// Parses HuJSON (JSON with // and /* */ comments and trailing commas) into a positioned tree.
/// Duplicate object keys are rejected, as Tailscale's parser does. Nesting is bounded so that
/// hostile input cannot exhaust the stack.
/// </summary>
public sealed class HuJsonParser
{
    private const int MaxDepth = 64;
    private readonly string _text;
    private int _pos;
    private int _line = 1;
    private int _lineStart;

    private HuJsonParser(string text) => _text = text;

    public static HuValue Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parser = new HuJsonParser(text);
        if (parser._pos < text.Length && text[0] == '\uFEFF') parser._pos++;
        parser.SkipTrivia();
        var value = parser.ParseValue(0);
        parser.SkipTrivia();
        if (parser._pos < text.Length)
            throw parser.Error("end of input");
        return value;
    }

    private TextPosition Here => new(_line, _pos - _lineStart + 1);

    private HuJsonException Error(string expected)
    {
        var found = _pos >= _text.Length ? "end of input" : Describe(_text[_pos]);
        return new HuJsonException(Here, expected, found);
    }

    private static string Describe(char c) => c switch
    {
        '\n' => "a line break",
        '\t' => "a tab",
        _ when char.IsControl(c) => $"control character U+{(int)c:X4}",
        _ => $"'{c}'",
    };

    private HuValue ParseValue(int depth)
    {
        if (depth > MaxDepth) throw new HuJsonException(Here, $"at most {MaxDepth} levels of nesting", "deeper nesting");
        if (_pos >= _text.Length) throw Error("a value");
        var start = Here;
        var c = _text[_pos];
        switch (c)
        {
            case '{': return ParseObject(start, depth);
            case '[': return ParseArray(start, depth);
            case '"': return new HuString(start, ParseString());
            case 't': ExpectWord("true"); return new HuBoolean(start, true);
            case 'f': ExpectWord("false"); return new HuBoolean(start, false);
            case 'n': ExpectWord("null"); return new HuNull(start);
            default:
                if (c == '-' || char.IsAsciiDigit(c)) return new HuNumber(start, ParseNumber());
                throw Error("a value (object, array, string, number, true, false or null)");
        }
    }

    private void ExpectWord(string word)
    {
        if (string.CompareOrdinal(_text, _pos, word, 0, word.Length) != 0)
            throw Error($"'{word}'");
        _pos += word.Length;
    }

    private HuObject ParseObject(TextPosition start, int depth)
    {
        _pos++;
        var members = new List<HuMember>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        SkipTrivia();
        while (true)
        {
            if (_pos < _text.Length && _text[_pos] == '}') { _pos++; return new HuObject(start, members); }
            if (_pos >= _text.Length || _text[_pos] != '"')
                throw Error(members.Count == 0 ? "a quoted member name or '}'" : "a quoted member name or '}' after ','");
            var namePos = Here;
            var name = ParseString();
            if (!seen.Add(name))
                throw new HuJsonException(namePos, "unique member names", $"duplicate name \"{name}\"");
            SkipTrivia();
            if (_pos >= _text.Length || _text[_pos] != ':') throw Error($"':' after member name \"{name}\"");
            _pos++;
            SkipTrivia();
            var value = ParseValue(depth + 1);
            members.Add(new HuMember(name, namePos, value));
            SkipTrivia();
            if (_pos < _text.Length && _text[_pos] == ',') { _pos++; SkipTrivia(); continue; }
            if (_pos < _text.Length && _text[_pos] == '}') { _pos++; return new HuObject(start, members); }
            throw Error("',' or '}'");
        }
    }

    private HuArray ParseArray(TextPosition start, int depth)
    {
        _pos++;
        var items = new List<HuValue>();
        SkipTrivia();
        while (true)
        {
            if (_pos < _text.Length && _text[_pos] == ']') { _pos++; return new HuArray(start, items); }
            items.Add(ParseValue(depth + 1));
            SkipTrivia();
            if (_pos < _text.Length && _text[_pos] == ',') { _pos++; SkipTrivia(); continue; }
            if (_pos < _text.Length && _text[_pos] == ']') { _pos++; return new HuArray(start, items); }
            throw Error("',' or ']'");
        }
    }

    private string ParseString()
    {
        _pos++; // opening quote
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= _text.Length) throw Error("closing '\"'");
            var c = _text[_pos];
            if (c == '"') { _pos++; return sb.ToString(); }
            if (c < 0x20) throw Error("a string character (control characters must be escaped)");
            if (c != '\\') { sb.Append(c); _pos++; continue; }
            _pos++;
            if (_pos >= _text.Length) throw Error("an escape sequence");
            var e = _text[_pos];
            _pos++;
            switch (e)
            {
                case '"': sb.Append('"'); break;
                case '\\': sb.Append('\\'); break;
                case '/': sb.Append('/'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'u':
                    if (_pos + 4 > _text.Length
                        || !int.TryParse(_text.AsSpan(_pos, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
                        throw Error("four hex digits after \\u");
                    sb.Append((char)code);
                    _pos += 4;
                    break;
                default:
                    _pos--;
                    throw Error("a valid escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
            }
        }
    }

    private string ParseNumber()
    {
        var begin = _pos;
        if (_text[_pos] == '-') _pos++;
        if (_pos >= _text.Length || !char.IsAsciiDigit(_text[_pos])) throw Error("a digit");
        if (_text[_pos] == '0') _pos++;
        else while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos])) _pos++;
        if (_pos < _text.Length && _text[_pos] == '.')
        {
            _pos++;
            if (_pos >= _text.Length || !char.IsAsciiDigit(_text[_pos])) throw Error("a digit after '.'");
            while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos])) _pos++;
        }
        if (_pos < _text.Length && (_text[_pos] == 'e' || _text[_pos] == 'E'))
        {
            _pos++;
            if (_pos < _text.Length && (_text[_pos] == '+' || _text[_pos] == '-')) _pos++;
            if (_pos >= _text.Length || !char.IsAsciiDigit(_text[_pos])) throw Error("a digit in the exponent");
            while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos])) _pos++;
        }
        return _text[begin.._pos];
    }

    private void SkipTrivia()
    {
        while (_pos < _text.Length)
        {
            var c = _text[_pos];
            if (c == '\n') { _pos++; _line++; _lineStart = _pos; }
            else if (c == ' ' || c == '\t' || c == '\r') _pos++;
            else if (c == '/' && _pos + 1 < _text.Length && _text[_pos + 1] == '/')
            {
                while (_pos < _text.Length && _text[_pos] != '\n') _pos++;
            }
            else if (c == '/' && _pos + 1 < _text.Length && _text[_pos + 1] == '*')
            {
                var start = Here;
                _pos += 2;
                while (true)
                {
                    if (_pos + 1 >= _text.Length) throw new HuJsonException(start, "'*/' closing the comment", "end of input");
                    if (_text[_pos] == '*' && _text[_pos + 1] == '/') { _pos += 2; break; }
                    if (_text[_pos] == '\n') { _line++; _lineStart = _pos + 1; }
                    _pos++;
                }
            }
            else return;
        }
    }
}
