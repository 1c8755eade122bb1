import mlflow
from flask import Flask, request
from flask_wtf import FlaskForm
from wtforms import Form, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, NoneOf, Regexp

app = Flask(__name__)


class RunForm(FlaskForm):
    stage = StringField("stage", validators=[DataRequired(), AnyOf(["Staging", "Production"])])
    slug = StringField(validators=[DataRequired(), Regexp(r"^[a-z-]+$")])
    tag = StringField(validators=[Length(max=64)])
    n = IntegerField("n")
    kind = SelectField(choices=[("a", "A"), ("b", "B")])
    loose_kind = SelectField(choices=[("a", "A")], validate_choice=False)
    required = StringField(validators=[DataRequired()])
    banned = StringField(validators=[NoneOf(["admin"])])
    notes = TextAreaField()


@app.post("/runs")
def runs():
    form = RunForm()
    if form.validate_on_submit():
        mlflow.log_param("stage", form.stage.data)
        mlflow.log_param("slug", form.slug.data)
        mlflow.log_param("tag", form.tag.data)
        mlflow.log_param("n", form.n.data)
        mlflow.log_param("kind", form.kind.data)
        mlflow.log_param("loose_kind", form.loose_kind.data)  # want: MLG203
        mlflow.log_param("required", form.required.data)  # want: MLG203
        mlflow.log_param("banned", form.banned.data)  # want: MLG203
        mlflow.log_param("notes", form.notes.data)  # want: MLG203


class SearchForm(Form):
    query = StringField(validators=[DataRequired(), Length(min=1)])
    order = StringField(validators=[AnyOf(["asc", "desc"])])


class ChildForm(SearchForm):
    extra = StringField()


@app.post("/search")
def search():
    form = ChildForm(request.form)
    if form.validate():
        mlflow.log_param("order", form.order.data)
        mlflow.log_param("query", form.query.data)  # want: MLG203
        mlflow.set_tag("extra", form.extra.data)  # want: MLG203
