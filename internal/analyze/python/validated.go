package python

import (
	"regexp"
	"strings"
)

// Request models validate their fields before a handler sees them: a
// pydantic (or SQLModel) field typed Literal, an Enum, a number, or
// constrained by a pattern, and a field a @validator/@field_validator
// checks, holds validated input; a max_length bounds its length only.
// These tables say which declarations count.

// fieldCheck is what a model does to one field's value.
type fieldCheck uint8

const (
	fieldFree    fieldCheck = iota
	fieldBounded            // length-capped: enough for MLG203, not a path check
	fieldClean              // constrained to a set or shape: validated
)

// modelBases are the request-model base classes, by resolved name.
var modelBases = map[string]bool{
	"pydantic.BaseModel": true, "pydantic.main.BaseModel": true, "pydantic.v1.BaseModel": true,
	"sqlmodel.SQLModel": true, "pydantic_settings.BaseSettings": true, "pydantic.BaseSettings": true,
	"marshmallow.Schema": true, "marshmallow.schema.Schema": true,
}

// formBases are WTForms form classes: an instance holds request data (a
// FlaskForm reads the request itself), each field judged by its
// declaration.
var formBases = map[string]bool{
	"flask_wtf.FlaskForm": true, "flask_wtf.Form": true, "flask_wtf.form.FlaskForm": true,
	"wtforms.Form": true, "wtforms.form.Form": true,
}

// wtformsScalars are WTForms fields that admit no free text; choice fields
// check the value against their choices unless validate_choice=False.
var wtformsScalars = map[string]bool{
	"IntegerField": true, "DecimalField": true, "FloatField": true, "BooleanField": true, "DateField": true,
	"DateTimeField": true, "DateTimeLocalField": true, "TimeField": true, "MonthField": true, "WeekField": true,
	"IntegerRangeField": true, "DecimalRangeField": true, "RadioField": true, "SelectField": true,
	"SelectMultipleField": true,
}

// wtformsCleaners are WTForms validators that pin a value to a set or
// shape; Length(max=...) only bounds it, DataRequired and NoneOf do neither.
var wtformsCleaners = regexp.MustCompile(`\b(?:AnyOf|Regexp|NumberRange|Email|URL|UUID|IPAddress|MacAddress)\(`)

// marshmallowScalars are marshmallow fields that admit no free text.
var marshmallowScalars = map[string]bool{
	"Int": true, "Integer": true, "Float": true, "Bool": true, "Boolean": true, "UUID": true, "DateTime": true,
	"NaiveDateTime": true, "AwareDateTime": true, "Date": true, "Time": true, "Decimal": true, "Number": true,
	"TimeDelta": true,
}

// marshmallowCleaners are marshmallow validators that pin a value to a set
// or shape; validate.Length(max=...) only bounds it.
var marshmallowCleaners = regexp.MustCompile(`\b(?:OneOf|Regexp|Range|Equal|ContainsOnly|URL|Email)\(`)

// enumBases make a class an Enum: a field of that type is one of its values.
var enumBases = map[string]bool{
	"enum.Enum": true, "enum.IntEnum": true, "enum.StrEnum": true, "enum.Flag": true, "enum.IntFlag": true,
}

// scalarTypes are annotation types that admit no free text.
var scalarTypes = map[string]bool{
	"int": true, "float": true, "bool": true, "UUID": true, "uuid.UUID": true, "datetime": true, "date": true,
	"datetime.datetime": true, "datetime.date": true, "Decimal": true, "decimal.Decimal": true,
	"PositiveInt": true, "NonNegativeInt": true, "NegativeInt": true, "PositiveFloat": true, "NonNegativeFloat": true,
	"StrictInt": true, "StrictFloat": true, "StrictBool": true, "conint": true, "confloat": true, "condecimal": true,
}

// constraintCalls constrain a string in an annotation or a default.
var constraintCalls = map[string]bool{
	"constr": true, "Field": true, "StringConstraints": true, "Query": true, "Path": true, "Form": true, "Body": true,
}

var (
	patternKwRe   = regexp.MustCompile(`\b(?:pattern|regex)\s*=`)
	maxLengthKwRe = regexp.MustCompile(`\bmax_length\s*=`)
	literalRe     = regexp.MustCompile(`^(?:typing\.|typing_extensions\.)?Literal\[`)
)

// modelInfo is one request-model class: what it does to each field.
type modelInfo struct {
	fields map[string]fieldCheck
	form   bool // a WTForms form: its instances are request data
	// plainSecret: a field whose name looks secret is not a SecretStr or
	// SecretBytes, so model_dump()/dict() hands out its value (MLG202).
	plainSecret bool
}

// maskedSecretRe is pydantic's masked types: their dump prints "**********".
var maskedSecretRe = regexp.MustCompile(`\bSecret(?:Str|Bytes)\b`)

// dumpIsMasked reports whether inst (a value's instance tag) is a model
// defined in this file whose dump cannot hold a secret in clear.
func (f *fileCtx) dumpIsMasked(inst string) bool {
	name, ok := strings.CutPrefix(inst, "model:")
	if !ok {
		name, ok = strings.CutPrefix(inst, "local.class.")
	}
	mi := f.models[name]
	return ok && mi != nil && !mi.form && !mi.plainSecret
}

// collectModel records a pydantic-style model class (or an Enum) defined
// in the file; s is the scope the class statement runs in.
func (f *fileCtx) collectModel(n *node, s *scope) {
	tx := f.s.text
	name := tx(n.child("name"))
	isModel, isEnum, isForm := false, false, false
	var inherited *modelInfo
	if sup := n.child("superclasses"); sup != nil {
		for _, b := range sup.namedKids() {
			q := s.resolveQual(b)
			switch {
			case modelBases[q]:
				isModel = true
			case formBases[q]:
				isModel, isForm = true, true
			case enumBases[q]:
				isEnum = true
			case f.models[strings.TrimPrefix(q, "local.class.")] != nil:
				isModel, inherited = true, f.models[strings.TrimPrefix(q, "local.class.")]
			case f.enums[strings.TrimPrefix(q, "local.class.")]:
				isEnum = true
			}
		}
	}
	if isEnum {
		f.enums[name] = true
		return
	}
	if !isModel {
		return
	}
	mi := &modelInfo{fields: map[string]fieldCheck{}, form: isForm || inherited != nil && inherited.form,
		plainSecret: inherited != nil && inherited.plainSecret}
	if inherited != nil {
		for k, v := range inherited.fields {
			mi.fields[k] = v
		}
	}
	body := n.child("body")
	if body == nil {
		f.models[name] = mi
		return
	}
	for _, st := range body.namedKids() {
		switch st.kind {
		case "expression_statement":
			a := st.firstNamed()
			if a == nil || a.kind != "assignment" {
				continue
			}
			l := a.child("left")
			if l == nil || l.kind != "identifier" {
				continue
			}
			if typ := a.child("type"); f.sec.SensitiveKey(tx(l)) && (typ == nil || !maskedSecretRe.MatchString(tx(typ))) {
				mi.plainSecret = true
			}
			chk := f.annotationCheck(a.child("type"))
			if r := a.child("right"); r != nil {
				chk = max(chk, f.constraintCheck(r), f.marshmallowCheck(r))
				if mi.form {
					chk = max(chk, f.wtformsCheck(r))
				}
			}
			mi.fields[tx(l)] = chk
		case "decorated_definition":
			for _, d := range st.kids {
				if d.kind != "decorator" {
					continue
				}
				e := unparen(d.firstNamed())
				if e == nil || e.kind != "call" {
					continue
				}
				fn := tx(e.child("function"))
				if j := strings.LastIndexByte(fn, '.'); j >= 0 {
					fn = fn[j+1:]
				}
				if fn != "validator" && fn != "field_validator" && fn != "validates" {
					continue
				}
				args := e.child("arguments")
				if args == nil {
					continue
				}
				for _, k := range args.namedKids() {
					if k.kind != "string" {
						continue
					}
					fld := strings.Trim(tx(k), `"'`)
					if fld == "*" {
						for f2 := range mi.fields {
							mi.fields[f2] = fieldClean
						}
						continue
					}
					mi.fields[fld] = fieldClean
				}
			}
		}
	}
	f.models[name] = mi
}

// annotationCheck judges a field's type annotation.
func (f *fileCtx) annotationCheck(t *node) fieldCheck {
	if t == nil {
		return fieldFree
	}
	txt := strings.Join(strings.Fields(f.s.text(t)), "")
	return f.typeTextCheck(txt)
}

func (f *fileCtx) typeTextCheck(txt string) fieldCheck {
	// Optional[X], X | None, Union[X, None]: judged as X
	for _, p := range []string{"Optional[", "typing.Optional["} {
		if strings.HasPrefix(txt, p) && strings.HasSuffix(txt, "]") {
			txt = txt[len(p) : len(txt)-1]
		}
	}
	txt = strings.TrimSuffix(strings.TrimPrefix(txt, "None|"), "|None")
	switch {
	case literalRe.MatchString(txt):
		return fieldClean
	case scalarTypes[txt] || f.enums[txt]:
		return fieldClean
	case strings.HasPrefix(txt, "Annotated[") || strings.HasPrefix(txt, "typing.Annotated["):
		inner := txt[strings.IndexByte(txt, '[')+1:]
		first := inner
		if i := strings.IndexByte(inner, ','); i >= 0 {
			first = inner[:i]
		}
		return max(f.typeTextCheck(first), constraintText(inner))
	}
	if i := strings.IndexByte(txt, '('); i > 0 {
		fn := txt[:i]
		if j := strings.LastIndexByte(fn, '.'); j >= 0 {
			fn = fn[j+1:]
		}
		if scalarTypes[fn] {
			return fieldClean
		}
		if constraintCalls[fn] {
			return constraintText(txt)
		}
	}
	return fieldFree
}

// constraintCheck judges a field's default: Field(..., pattern=...).
func (f *fileCtx) constraintCheck(r *node) fieldCheck {
	r = unparen(r)
	if r == nil || r.kind != "call" {
		return fieldFree
	}
	fn := f.s.text(r.child("function"))
	if j := strings.LastIndexByte(fn, '.'); j >= 0 {
		fn = fn[j+1:]
	}
	if !constraintCalls[fn] {
		return fieldFree
	}
	return constraintText(strings.Join(strings.Fields(f.s.text(r)), ""))
}

// constraintText reads the keywords of a constraint call.
func constraintText(txt string) fieldCheck {
	switch {
	case patternKwRe.MatchString(txt):
		return fieldClean
	case maxLengthKwRe.MatchString(txt):
		return fieldBounded
	}
	return fieldFree
}

// modelParam is the model class a parameter annotation names, or "".
func (f *fileCtx) modelParam(t *node) string {
	if t == nil {
		return ""
	}
	txt := strings.Join(strings.Fields(f.s.text(t)), "")
	if f.models[txt] != nil {
		return txt
	}
	return ""
}

// modelField applies a model's field check to the value read from it.
func (f *fileCtx) modelField(base *val, attr string, out *val) *val {
	if base == nil || !strings.HasPrefix(base.inst, "model:") {
		return out
	}
	mi := f.models[strings.TrimPrefix(base.inst, "model:")]
	if mi == nil {
		return out
	}
	switch mi.fields[attr] {
	case fieldClean:
		out = cleaned(out)
	case fieldBounded:
		c := *out
		c.bounded = true
		out = &c
	}
	out.inst = ""
	return out
}

// marshmallowCheck judges a marshmallow field declaration:
// fields.Str(validate=validate.OneOf([...])), fields.Int().
func (f *fileCtx) marshmallowCheck(r *node) fieldCheck {
	r = unparen(r)
	if r == nil || r.kind != "call" {
		return fieldFree
	}
	fn := f.s.text(r.child("function"))
	if !strings.HasPrefix(fn, "fields.") && !strings.HasPrefix(fn, "marshmallow.fields.") {
		return fieldFree
	}
	if marshmallowScalars[fn[strings.LastIndexByte(fn, '.')+1:]] {
		return fieldClean
	}
	txt := strings.Join(strings.Fields(f.s.text(r)), "")
	i := strings.Index(txt, "validate=")
	if i < 0 {
		return fieldFree
	}
	v := txt[i+len("validate="):]
	switch {
	case marshmallowCleaners.MatchString(v):
		return fieldClean
	case strings.Contains(v, "Length(") && strings.Contains(v, "max="):
		return fieldBounded
	case strings.HasPrefix(v, "validate.") || strings.HasPrefix(v, "["):
		return fieldFree // a validator of a kind not listed here
	}
	return fieldClean // the schema's own validating function
}

// schemaLoad reads Schema().load(data): the data as the schema checked it,
// its fields judged by the schema's declarations.
func (f *fileCtx) schemaLoad(c *call, r *val, args []*val) (*val, bool) {
	if r != nil && c.method == "get" && strings.HasPrefix(r.inst, "model:") && len(c.pos) > 0 && c.pos[0].known() {
		out := derive(0, append(args, r)...)
		return f.modelField(r, c.pos[0].tmpl, out), true
	}
	if r == nil || (c.method != "load" && c.method != "loads") || !strings.HasPrefix(r.inst, "local.class.") {
		return nil, false
	}
	name := strings.TrimPrefix(r.inst, "local.class.")
	if f.models[name] == nil {
		return nil, false
	}
	out := derive(0, args...)
	out.inst = "model:" + name
	return out, true
}

// wtformsCheck judges a WTForms field declaration:
// StringField("x", validators=[DataRequired(), AnyOf([...])]), IntegerField().
func (f *fileCtx) wtformsCheck(r *node) fieldCheck {
	r = unparen(r)
	if r == nil || r.kind != "call" {
		return fieldFree
	}
	fn := f.s.text(r.child("function"))
	fn = fn[strings.LastIndexByte(fn, '.')+1:]
	if !strings.HasSuffix(fn, "Field") {
		return fieldFree
	}
	txt := strings.Join(strings.Fields(f.s.text(r)), "")
	if wtformsScalars[fn] && !strings.Contains(txt, "validate_choice=False") {
		return fieldClean
	}
	i := strings.Index(txt, "validators=")
	if i < 0 {
		return fieldFree
	}
	v := txt[i+len("validators="):]
	switch {
	case wtformsCleaners.MatchString(v):
		return fieldClean
	case strings.Contains(v, "Length(") && strings.Contains(v, "max="):
		return fieldBounded
	}
	return fieldFree
}

// formInstance is a WTForms form built from the request: its fields are
// judged by modelField when read.
func (f *fileCtx) formInstance(qual string) (*val, bool) {
	name := strings.TrimPrefix(qual, "local.class.")
	if mi := f.models[name]; mi == nil || !mi.form {
		return nil, false
	}
	return &val{t: tUser, src: "form data (" + name + ")", inst: "model:" + name}, true
}
